//! Command-line arguments (clap). Only this module knows clap; `reconcile.rs` turns these
//! into engine settings (STYLE.md 2).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sverka",
    version,
    about = "Reconcile payment instructions with provider settlements, exactly.",
    long_about = "sverka matches the payment instructions of a social-protection payroll with the \
                  settlement files that banks, card processors and mobile-money providers send back, \
                  and reports every instruction's fate, every anomaly and every rejected input row, \
                  with exact totals an auditor can re-derive.\n\n\
                  Exit status: 0 reconciled (findings are not failures), 2 unusable input or arguments, \
                  1 internal error, 3 a --fail-on finding occurred."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Match instructions with settlements and write the results (CONTRACT.md).
    Reconcile(ReconcileArgs),
    /// Write a synthetic reference data set with planted findings and its ground truth.
    Generate(GenerateArgs),
    /// Compare a reconciliation's results with a reference data set's ground truth
    /// (exit 0 only on full agreement, 1 on any disagreement).
    Score(ScoreArgs),
    /// (Re)write report.html, the auditor's one-page view, from a results folder.
    Report(ReportArgs),
    /// Check a results folder: every hash in manifest.json, every count and total of
    /// summary.json re-derived from the row outputs, conservation (exit 0 all holds,
    /// 1 a discrepancy, 2 an unusable folder).
    Verify(VerifyArgs),
    /// Turn an approved payroll into provider payment files (CSV or pain.001.001.09),
    /// recording every issued instruction in a ledger so nobody is paid twice.
    Disburse(DisburseArgs),
    /// Show how settlement files will be read: the format recognised (or the profile that
    /// claims them), statements and control checks, and the first rows as settlement rows
    /// with the reject each would get (exit 2 if a file cannot be read).
    Inspect(InspectArgs),
    /// Write every open exception of a results folder as a CSV worksheet for a person to
    /// decide: fill in action, note, decided_by and approved_by, then pass the file to
    /// `sverka reconcile --decisions` (docs/DECISIONS.md).
    Worksheet(WorksheetArgs),
    /// openIMIS's payroll module: fill the payroll CSV it downloads with what a
    /// reconciliation saw paid, for upload back (docs/OPENIMIS.md).
    #[command(subcommand)]
    Openimis(OpenimisCommand),
}

#[derive(Debug, Subcommand)]
pub enum OpenimisCommand {
    /// Fill openIMIS's downloaded payroll CSV from a reconcile folder: Paid = Yes and
    /// Receipt = the provider's reference for every benefit sverka saw paid exactly; every
    /// other row left as it was and listed in the not-paid file with its reason.
    Fill(OpenimisFillArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "The download is the CSV openIMIS's payroll page gives for a payroll \
                  (\"reconciliation\" download, blank): Payroll Name, Payroll Status, First \
                  Name, Last Name, Date of Birth, Code, Status, Amount, Type, Receipt, Paid, then \
                  any extra columns. The reconcile folder's instruction ids must be its Codes.\n\n\
                  A row is filled only when all of these hold: its Code is an instruction of the \
                  reconciliation; its openIMIS Status is ACCEPTED; Paid and Receipt are empty; \
                  sverka's status is PAID; it is not flagged ACCOUNT_MISMATCH (unless a reviewer \
                  ACCEPTED it); its Amount equals the instructed amount as an exact decimal. The \
                  Receipt is the provider_ref of the one SETTLED settlement that paid it. Only \
                  those two fields change: every other byte (BOM, line endings, quoting, codes \
                  with leading zeros, extra columns) is written back as it came.\n\n\
                  The not-paid file lists every other row: row, code, openIMIS status and \
                  amount, sverka status, flags, amounts and currency (\"not in results\" when \
                  the code is no instruction of the reconciliation), a reason code \
                  (not_in_results, openimis_status, already_filled, not_paid, account_mismatch, \
                  amount_differs, receipt_too_long) and a sentence. Every row is filled or \
                  listed; the counts go to stderr.\n\n\
                  Refused (exit 2, nothing written): a file that is not UTF-8, lacks Code, \
                  Status, Amount, Receipt or Paid, has an `errors` column (openIMIS's error \
                  report: openIMIS refuses it), repeats a Code, has a row with another number \
                  of fields than the header, an unbalanced quote, no rows, or only RECONCILED \
                  rows; a RESULTS_DIR that is not a reconcile folder. Both files are written \
                  whole or not at all (not-paid first, the upload last).\n\n\
                  Exit status: 0 written, 2 unusable input or arguments, 1 internal error."
)]
pub struct OpenimisFillArgs {
    /// The payroll CSV downloaded from openIMIS.
    #[arg(long, value_name = "FILE")]
    pub download: PathBuf,
    /// Output folder of `sverka reconcile` whose instruction ids are the payroll's Codes.
    #[arg(long, value_name = "RESULTS_DIR")]
    pub results: PathBuf,
    /// The filled CSV to upload to openIMIS (replaced whole, or left as it was).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The rows not marked paid, with their reasons [default: not-paid.csv beside --out].
    #[arg(long, value_name = "FILE")]
    pub not_paid: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Rows: one per candidate instruction of each AMBIGUOUS settlement, one per \
                  unexpected settlement, and one per open instruction (UNPAID, DOUBLE_PAID, \
                  UNDERPAID, OVERPAID, CURRENCY_MISMATCH, ACCOUNT_MISMATCH) and matched \
                  settlement; instructions flagged ACCEPTED and settlements a decision \
                  unmatched are left out. Ordered by currency, then amount at risk (largest \
                  first). The first eight columns are the decision columns of `--decisions`; \
                  decision_id is proposed, the same for the same exception in every run.\n\n\
                  Exit status: 0 written, 2 not an output folder of `sverka reconcile`, \
                  1 internal error (nothing written)."
)]
pub struct WorksheetArgs {
    /// Output folder of `sverka reconcile`.
    #[arg(value_name = "RESULTS_DIR")]
    pub dir: PathBuf,
    /// The CSV file to write (replaced whole, or left as it was).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Settlement files or folders, as `reconcile --settlements` takes them (CODE=PATH too).
    #[arg(required = true, num_args = 1.., value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Providers file: statement accounts, the providers' report profiles and the
    /// payroll profiles ([instructions.NAME]).
    #[arg(long, value_name = "FILE")]
    pub providers: Option<PathBuf>,
    /// Read PATH as instruction files (a payroll), as `reconcile --instructions` does.
    #[arg(long)]
    pub instructions: bool,
    /// Rows shown per file.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub rows: usize,
    /// Print JSON (one object per file) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output folder of `sverka reconcile`.
    #[arg(value_name = "RESULTS_DIR")]
    pub dir: PathBuf,
    /// Where to write the report [default: RESULTS_DIR/report.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output folder of `sverka reconcile` (or `sverka disburse`).
    #[arg(value_name = "RESULTS_DIR")]
    pub dir: PathBuf,
    /// The run's input files or folders: each file's SHA-256 must match manifest.json.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Outputs in DIR: one payment file per provider, currency and batch \
                  (PROVIDER-CCY-NNN.csv or .xml), instructions.parquet (what was issued, in the \
                  format `sverka reconcile --instructions` reads), holds.parquet/.csv (rows not \
                  paid, with the reason), rejects.parquet/.csv, recovery.parquet/.csv (with \
                  --retry-from), summary.json, manifest.json. See docs/DISBURSE.md.\n\n\
                  Exit status: 0 done (also when nothing new was issued), 2 unusable input or \
                  arguments, 1 internal error (nothing issued)."
)]
pub struct DisburseArgs {
    /// Approved payroll files (.csv, .parquet, .arrow) or directories of them: beneficiary_id,
    /// program, cycle, provider, account, amount, currency, due_date [, beneficiary_name].
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub payroll: Vec<PathBuf>,
    /// Output folder for this batch (one folder per batch).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The issuing ledger (SQLite file; created when missing). Use the same one every cycle.
    #[arg(long, value_name = "PATH")]
    pub ledger: PathBuf,
    /// Provider profiles and programme caps (TOML, see schemas/providers.example.toml).
    /// Without it every provider gets a CSV file and no account check.
    #[arg(long, value_name = "FILE")]
    pub providers: Option<PathBuf>,
    /// Payment date: pain.001 creation time (T00:00:00) and retries' requested date
    /// [default: the earliest due_date of the payroll].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub execution_date: Option<String>,
    /// Most rows per payment file (the provider's batch_size, when smaller, wins).
    #[arg(long, value_name = "N")]
    pub max_batch_rows: Option<usize>,
    /// A `sverka reconcile` output folder: UNPAID, FAILED and RETURNED go out again as new
    /// attempts; DOUBLE_PAID and OVERPAID go to recovery.csv. Combines with --payroll.
    #[arg(long, value_name = "RESULTS_DIR")]
    pub retry_from: Option<PathBuf>,
    /// Worker threads [default: all cores]. Outputs are identical for any value.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print summary.json to stdout instead of the closing screen.
    #[arg(long)]
    pub json: bool,
    /// Print each stage's wall time to stderr (for benchmarks).
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Instruction rows to write (rejects included); settlements follow from them.
    #[arg(long, value_name = "N")]
    pub instructions: u64,
    /// Folder to create (must not exist, or be empty): instructions/, settlements/, truth/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Same seed, same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// File format of the input files (the truth is always Parquet); the settlement files
    /// too, unless --settlement-format says otherwise.
    #[arg(long, default_value = "parquet", value_parser = ["parquet", "csv", "arrow"])]
    pub format: String,
    /// Format of the settlement files [default: as --format]: a table format, or the files
    /// providers send (CONTRACT.md section 7): `camt053` (camt.053 statements, failures in
    /// pain.002), `pain002` (pain.002 status reports, returns in camt.054), `mt940` (MT940
    /// statements, failures in pain.002), or `mixed` (each provider its own format).
    /// Planted rows a provider format cannot carry go to a small CSV file beside it;
    /// `providers.toml` names each provider's statement accounts: pass it to `sverka
    /// reconcile --providers`.
    #[arg(long, value_name = "FORMAT", value_parser = ["parquet", "csv", "arrow", "camt053", "pain002", "mt940", "mixed"])]
    pub settlement_format: Option<String>,
    /// Planting rates: `default`, `clean` (nothing planted) or `messy` (four times the default).
    #[arg(long, default_value = "default", value_parser = ["default", "clean", "messy"])]
    pub profile: String,
    /// Set one planting rate over the profile's, in parts per million (`late=30000`) or
    /// percent (`late=3%`, at most four decimals); repeatable. The names (`unpaid`, `late`,
    /// `fallback`, `shared_account`, `resent_settlement`, ...) are listed in
    /// docs/REFERENCE-DATA.md and in the truth's summary.json; an unknown name lists them.
    #[arg(long = "rate", value_name = "NAME=VALUE")]
    pub rates: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The `truth/` folder of a generated data set.
    #[arg(long, value_name = "DIR")]
    pub truth: PathBuf,
    /// The output folder of `sverka reconcile` on that data set.
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Instruction files (.csv, .parquet, .arrow) or directories of them (read sorted by name).
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub instructions: Vec<PathBuf>,
    /// Settlement files or directories, e.g. one file per provider: the contract's layout
    /// (.csv, .parquet, .arrow), as banks send them (camt.053, camt.054, pain.002, MT940;
    /// recognised by content), or a provider's own CSV report that a profile in --providers
    /// claims by its name. CODE=PATH gives every row of PATH the provider CODE.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub settlements: Vec<PathBuf>,
    /// Providers file (TOML, the one `sverka disburse` reads): each provider's
    /// `statement_accounts` say who sent a bank statement (CONTRACT 7.2), and
    /// `[providers.CODE.settlements]` describes the provider's own CSV report (7.4).
    #[arg(long, value_name = "FILE")]
    pub providers: Option<PathBuf>,
    /// What a failed control total of a provider file does: `fail` (exit 2) or `warn`
    /// (recorded in summary.json and the report, and the run goes on).
    #[arg(long, default_value = "fail", value_name = "fail|warn", value_parser = ["fail", "warn"])]
    pub control_totals: String,
    /// Reviewed decisions (CONTRACT 8): CSV files (or directories of them) with the columns
    /// decision_id, action (MATCH, UNMATCH, ACCEPT), provider, provider_ref,
    /// instruction_id, note, decided_by, approved_by — a filled-in `sverka worksheet` is
    /// one. A decision applies only when approved by someone other than its maker; every
    /// decision's outcome is in decisions.parquet.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub decisions: Vec<PathBuf>,
    /// Output folder: instructions.parquet, settlements.parquet, rejects.parquet, summary.json,
    /// report.html, manifest.json (and decisions.parquet with --decisions).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Do not write report.html (manifest.json is always written).
    #[arg(long)]
    pub no_report: bool,
    /// Also write spreadsheet-safe CSV copies of the three row outputs.
    #[arg(long)]
    pub csv: bool,
    /// Worker threads [default: all cores]. Results are identical for any value.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// A SETTLED settlement later than due_date + this many days flags LATE.
    #[arg(long, default_value_t = 3, value_name = "DAYS")]
    pub late_days: u32,
    /// Fallback matching accepts |value_date - due_date| up to this many days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub fallback_days: u32,
    /// SHARED_ACCOUNT when one (provider, account) names at least this many beneficiaries.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub shared_account_min: u32,
    /// AMOUNT_OUTLIER when amount > this factor x the lower median of its (program, cycle, currency).
    #[arg(long, default_value = "3", value_name = "FACTOR")]
    pub outlier_factor: String,
    /// Comma-separated statuses, flags, AMBIGUOUS or `rejects`: if any occurs, exit 3
    /// (outputs are still written). Example: --fail-on DOUBLE_PAID,OVERPAID,rejects
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub fail_on: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print summary.json to stdout instead of the closing screen.
    #[arg(long)]
    pub json: bool,
    /// Print the wall time of each stage to stderr (for benchmarks).
    #[arg(long)]
    pub timings: bool,
}
