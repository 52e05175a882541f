//! Reference data: generate and score.
