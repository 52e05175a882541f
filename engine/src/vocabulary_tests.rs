//! `schemas/` and the engine agree on the vocabularies: statuses, flags, match methods and
//! reject reasons (here, not in `tests/schemas.rs`: the stages that own them are private).

use std::path::Path;

use serde_json::Value;

use crate::classify::{flag, Status};
use crate::matching::Method;
use crate::schema::Reason;

fn read_schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn vocabularies_agree() {
    let s = read_schema("reconcile-v2.json");
    let statuses: Vec<&str> = Status::ALL.iter().map(|x| x.as_str()).collect();
    let methods: Vec<&str> = Method::ALL.map(|m| m.as_str()).to_vec();
    let reasons: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(names(&s["statuses"]), statuses);
    assert_eq!(names(&s["instruction_flags"]), flag::NAMES.to_vec());
    assert_eq!(names(&s["settlement_flags"]), ["AMBIGUOUS"]);
    assert_eq!(names(&s["match_methods"]), methods);
    assert_eq!(names(&s["reject_reasons"]), reasons);
    // The summary's schema lists the same names; by_flag holds both kinds of flag,
    // alphabetical, as the summary writes them.
    let summary = read_schema("summary.schema.json");
    let counts = &summary["properties"]["counts"]["properties"];
    let listed = |v: &Value| names(&v["propertyNames"]["enum"]);
    assert_eq!(listed(&counts["by_status"]), statuses);
    let mut flags: Vec<&str> = flag::NAMES.to_vec();
    flags.push("AMBIGUOUS");
    flags.sort_unstable();
    assert_eq!(listed(&counts["by_flag"]), flags);
    assert_eq!(listed(&counts["by_match"]), methods);
    assert_eq!(listed(&summary["$defs"]["reasons"]), reasons);
}

#[test]
fn decision_vocabularies_agree() {
    use crate::decisions::{Action, Reason as DecisionReason, DECISIONS};
    let s = read_schema("reconcile-v2.json");
    let reasons: Vec<&str> = DecisionReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(names(&s["decision_reasons"]), reasons);
    for a in names(&s["decision_actions"]) {
        assert!(Action::parse(&a).is_some(), "{a}");
    }
    let columns: Vec<&str> = DECISIONS.fields().iter().map(|f| f.name).collect();
    let declared: Vec<String> = s["inputs"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(declared, columns);
    assert!(DECISIONS.fields().iter().all(|f| f.column && !f.required));
    let summary = read_schema("summary.schema.json");
    let listed =
        &summary["properties"]["decisions"]["properties"]["by_reason"]["propertyNames"]["enum"];
    assert_eq!(names(listed), reasons);
}
