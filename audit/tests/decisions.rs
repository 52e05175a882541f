//! The report's "Decisions" section (CONTRACT.md section 8): the demo data with a
//! decision file covering applied, pending and refused decisions, listed with their
//! reasons and what they moved, bounded, escaped, and the same bytes from the run and
//! from `sverka report DIR`; no section without decisions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sverka_audit::AuditFinish;
use sverka_engine::{ReconcileConfig, Settings, Silent};

fn demo(side: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/demo")
        .join(side)
}

/// Reconciles the demo data with report and manifest, as `sverka reconcile` does.
fn run(decisions: Vec<PathBuf>) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let cfg = ReconcileConfig {
        instructions: vec![demo("instructions")],
        settlements: vec![demo("settlements")],
        out: out.path().to_path_buf(),
        csv: false,
        settings: Settings::default(),
        providers: Default::default(),
        decisions,
    };
    sverka_engine::reconcile_with(&cfg, &Silent, &AuditFinish::new(true)).expect("reconcile");
    out
}

/// The page's Decisions section (up to the next section).
fn section(html: &str) -> &str {
    let from = html
        .find(r#"<h2 id="decisions">"#)
        .expect("a Decisions section");
    let to = html[from..].find(r#"<h2 id="rejects">"#).unwrap() + from;
    &html[from..to]
}

/// The `<tbody>` of the table with HTML id `id` in `s`.
fn table<'a>(s: &'a str, id: &str) -> &'a str {
    let from = s
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("{id}"));
    let to = s[from..].find("</table>").unwrap() + from;
    &s[from..to]
}

/// In the demo data: an AMBIGUOUS settlement and one of its candidates (MATCH), a
/// settlement matched by reference (UNMATCH), a DOUBLE_PAID instruction (ACCEPT); then a
/// self-approved and an unapproved decision, a repeated id and an unknown settlement, and
/// more unapproved decisions than a table lists.
const DECISIONS: &str = "\
decision_id,action,provider,provider_ref,instruction_id,note,decided_by,approved_by
D-1,MATCH,AIRTEL_UG,AM26111700000005,UG-CB-2026-11-000000085,phone confirmed,alice,bob
D-2,UNMATCH,AIRTEL_UG,AM26112300000001,,wrong person <script>x</script>,alice,carol
D-3,ACCEPT,,,UZ-EP-2026-11-000000005,second payment recovered,alice,bob
D-4,ACCEPT,,,UZ-EP-2026-11-000000203,self approved,dave,dave
D-5,ACCEPT,,,UZ-EP-2026-11-000000203,not yet approved,dave,
D-3,ACCEPT,,,UZ-EP-2026-11-000000203,an id used twice,alice,bob
D-6,MATCH,AIRTEL_UG,NOPE,UG-CB-2026-11-000000086,,alice,bob
";

/// Unapproved decisions added after [`DECISIONS`]: the pending table lists 1,000.
const EXTRA_PENDING: usize = 1003;

#[test]
fn the_report_lists_decisions_bounded_escaped_and_alike_from_the_folder() {
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("decisions.csv");
    let mut text = DECISIONS.to_string();
    for k in 0..EXTRA_PENDING {
        writeln!(
            text,
            "P-{k:04},ACCEPT,,,UZ-EP-2026-11-000000203,later,erin,"
        )
        .unwrap();
    }
    std::fs::write(&path, text).unwrap();
    let d = run(vec![path]);
    let html = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    assert_eq!(
        html,
        sverka_audit::report::render_folder(d.path()).unwrap(),
        "the run's report and `sverka report DIR`'s differ"
    );
    assert!(html.contains(r##"<li><a href="#decisions">Decisions</a></li>"##));
    let s = section(&html);

    let counts = table(s, "decision-counts");
    assert!(counts.contains(r#"<td>APPLIED</td><td class="num">3</td>"#));
    let pending = 2 + EXTRA_PENDING;
    assert!(counts.contains(&format!(
        r#"<td>PENDING</td><td class="num">{pending}</td>"#
    )));
    assert!(counts.contains(r#"<td>REFUSED</td><td class="num">2</td>"#));
    let reasons = table(s, "decision-reasons");
    for (outcome, reason, n) in [
        ("PENDING", "not_approved", 1 + EXTRA_PENDING),
        ("PENDING", "self_approved", 1),
        ("REFUSED", "duplicate_decision_id", 1),
        ("REFUSED", "unknown_settlement", 1),
    ] {
        let row = format!(r#"<td>{outcome}</td><td>{reason}</td><td class="num">{n}</td>"#);
        assert!(reasons.contains(&row), "{row} in {reasons}");
    }

    // What each applied decision changed, before → after.
    let applied = table(s, "decisions-applied");
    assert_eq!(applied.matches("<tr><td").count(), 3, "{applied}");
    for needle in [
        "AIRTEL_UG / AM26111700000005",
        "NONE → MANUAL UG-CB-2026-11-000000085",
        "<td>UNPAID → PAID</td><td class=\"num\">62500 UGX</td>",
        "REFERENCE UG-EP-2026-11-000000013 → NONE",
        "<td>PAID → UNPAID</td><td class=\"num\">25000 UGX</td>",
        "<td>DOUBLE_PAID → DOUBLE_PAID</td><td class=\"num\">937500.00 UZS</td>",
        "<td>alice</td><td>carol</td>",
        // Hostile text is escaped.
        "wrong person &lt;script&gt;x&lt;&#x2f;script&gt;",
    ] {
        assert!(applied.contains(needle), "{needle} in {applied}");
    }
    assert!(!html.contains("<script>"));

    let moved = table(s, "decisions-moved");
    for (code, change, amount) in [
        ("UGX", "UNPAID → PAID", "62500"),
        ("UGX", "PAID → UNPAID", "25000"),
        ("UZS", "DOUBLE_PAID → DOUBLE_PAID", "937500.00"),
    ] {
        let row = format!(
            r#"<td>{code}</td><td>{change}</td><td class="num">1</td><td class="num">1</td><td class="num">{amount}</td>"#
        );
        assert!(moved.contains(&row), "{row} in {moved}");
    }

    let pending_t = table(s, "decisions-pending");
    assert_eq!(pending_t.matches("<tr><td").count(), 1000);
    assert!(pending_t.contains(
        "<td class=\"id\">D-4</td><td>ACCEPT</td><td>dave</td><td>dave</td><td>self_approved</td>"
    ));
    assert!(pending_t.contains(
        "<td class=\"id\">D-5</td><td>ACCEPT</td><td>dave</td><td>—</td><td>not_approved</td>"
    ));
    assert!(pending_t.contains("P-0997") && !pending_t.contains("P-0998"));
    assert!(s.contains("and 5 more: see <code>decisions.parquet</code>."));

    let refused = table(s, "decisions-refused");
    assert_eq!(refused.matches("<tr><td").count(), 2);
    assert!(refused.contains("<td class=\"id\">D-3</td><td>ACCEPT</td><td>alice</td><td>bob</td><td>duplicate_decision_id</td><td>decision_id D-3 is used by an earlier row"));
    assert!(refused
        .contains("<td>unknown_settlement</td><td>no accepted settlement AIRTEL_UG &#x2f; NOPE"));

    // The decision file among the inputs, and the new flags and method in the rows.
    assert!(html.contains(r##"<td>decisions</td><td class="id"><a href="#decisions">"##));
    assert!(html.contains("Matches: REFERENCE 314, FALLBACK 21, MANUAL 1, NONE 23."));
    assert!(html.contains(r#"<td class="flags">ACCEPTED LATE</td>"#));
}

#[test]
fn without_decisions_the_report_has_no_decisions_section() {
    let d = run(Vec::new());
    let html = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    assert!(!html.contains(r#"id="decisions""#));
    assert!(!html.contains("decisions.parquet"));
    assert!(!html.contains("#decisions"));
    assert_eq!(html, sverka_audit::report::render_folder(d.path()).unwrap());
}
