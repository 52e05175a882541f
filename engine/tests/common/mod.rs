//! Helpers shared by the engine's integration tests (each test file is its own crate and
//! uses a part of them).
#![allow(dead_code)]

pub mod summary;
