//! `capsurvey`: the command line. It only wires the library crates together.

mod cmd;
mod progress;
mod surveys;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Capability surveys of home-care providers, end to end.
///
/// Forms go out by post, replies come back by FAX, scan or CSV, and the results become handouts
/// for briefing sessions. Data lives in one database: an SQLite file (capsurvey.db in the working
/// directory) unless --db or CAPSURVEY_DB names another, such as postgres://user@host/db.
#[derive(Parser, Debug)]
#[command(
    name = "capsurvey",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Database: an SQLite file path, sqlite:PATH, or postgres://user@host/db.
    #[arg(long, global = true, env = "CAPSURVEY_DB", default_value = capsurvey_store::DEFAULT_DB)]
    db: String,
    /// Folder of survey definitions (*.toml); the surveys shipped with capsurvey are used when it does not exist.
    #[arg(
        long,
        global = true,
        env = "CAPSURVEY_SURVEYS",
        default_value = "surveys"
    )]
    surveys: std::path::PathBuf,
    /// Folder for page images and review crops (default: capsurvey-data beside an SQLite database,
    /// else in the working directory).
    #[arg(long, global = true, env = "CAPSURVEY_DATA")]
    data: Option<std::path::PathBuf>,
    /// Who is making the changes, for the audit log (defaults to the login name).
    #[arg(long, global = true, env = "CAPSURVEY_ACTOR")]
    actor: Option<String>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The whole loop on a fresh database with the shipped fixtures: roster, forms, replies, handouts.
    ///
    /// Creates DIR/capsurvey.db (replacing an earlier demo database there), imports the roster
    /// fixtures, generates forms for all three surveys, imports the reply fixtures, renders a
    /// handout and exports per survey, and prints where everything is.
    Demo(cmd::demo::DemoArgs),
    /// Survey definitions: list, show and check them.
    #[command(subcommand)]
    Survey(cmd::survey::SurveyCmd),
    /// The facility roster: import public lists and your own, list facilities, set areas.
    #[command(subcommand)]
    Roster(cmd::roster::RosterCmd),
    /// Replies that arrive as CSV or Excel files: import them into the store.
    #[command(subcommand)]
    Replies(cmd::replies::RepliesCmd),
    /// Faxed and scanned replies: ingest them, re-read assigned pages, list missing pages.
    #[command(subcommand)]
    Scan(cmd::scan::ScanCmd),
    /// Printed survey forms: generate a mailing batch, check a design, calibration page, layout file.
    #[command(subcommand)]
    Forms(cmd::forms::FormsCmd),
    /// Per survey: facilities, mailed, answered, under review.
    Status,
    /// The review site where staff finish what the machine could not (capsurvey review serve).
    #[command(subcommand)]
    Review(cmd::review::ReviewCmd),
    /// Accounts of the review site: add, list, passwd, disable, enable.
    #[command(subcommand)]
    User(cmd::user::UserCmd),
    /// How often the machine's reading was right, from reviewed items; reviewers' pace.
    Accuracy(cmd::accuracy::AccuracyArgs),
    /// Briefing handouts (報告会資料): render a survey's results to one self-contained HTML file.
    #[command(subcommand)]
    Report(cmd::report::ReportCmd),
    /// A survey's answers as a table, one row per facility: CSV (UTF-8 with BOM) or xlsx.
    ///
    /// A code and a label column per answer field; an answer still under review is left empty,
    /// labelled 確認中 and its key listed in the last column (see docs/handouts.md, Export).
    ///
    /// Example: capsurvey export --survey dental --format xlsx --out dental.xlsx
    Export(cmd::export::ExportArgs),
}

/// What every command gets: where the data is and who is acting.
pub struct Ctx {
    /// The --db argument.
    pub db_spec: String,
    /// The --surveys folder.
    pub surveys_dir: std::path::PathBuf,
    /// Who acts, for the audit log.
    pub actor: String,
    /// The --data folder, if given.
    pub data: Option<std::path::PathBuf>,
    /// The database, opened by the first command that needs it and closed by [`Ctx::close`].
    store: tokio::sync::OnceCell<capsurvey_store::Store>,
}

impl Ctx {
    /// A context whose database is opened when a command first needs it.
    pub fn new(
        db_spec: String,
        surveys_dir: std::path::PathBuf,
        actor: String,
        data: Option<std::path::PathBuf>,
    ) -> Ctx {
        Ctx {
            db_spec,
            surveys_dir,
            actor,
            data,
            store: tokio::sync::OnceCell::new(),
        }
    }

    /// Where page images and crops are kept: --data, else `capsurvey-data` beside an SQLite
    /// database file, else `capsurvey-data` in the working directory.
    pub fn data_dir(&self) -> std::path::PathBuf {
        if let Some(d) = &self.data {
            return d.clone();
        }
        let url = capsurvey_store::database_url(&self.db_spec);
        let file = url
            .strip_prefix("sqlite://")
            .map(|r| r.split('?').next().unwrap_or(r));
        match file.map(std::path::Path::new).and_then(|p| p.parent()) {
            Some(parent) if !file.unwrap_or_default().contains(":memory:") => {
                parent.join("capsurvey-data")
            }
            _ => std::path::PathBuf::from("capsurvey-data"),
        }
    }

    /// The database, opened (and migrated) on first use.
    pub async fn store(&self) -> Result<capsurvey_store::Store> {
        self.store
            .get_or_try_init(|| async {
                capsurvey_store::Store::open(&self.db_spec)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "{e}\n  hint: --db takes a file path or postgres://user@host/db"
                        )
                    })
            })
            .await
            .cloned()
    }

    /// Closes the database if a command opened it, so that SQLite folds its write-ahead log
    /// into the database file and removes it: the `.db` file alone then holds everything, as
    /// someone copying it for a backup expects.
    pub async fn close(&self) {
        if let Some(store) = self.store.get()
            && let Err(e) = store.clone().close().await
        {
            tracing::warn!("closing the database: {e}");
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Runs one parsed command. The demo calls it for each of its steps.
pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<std::process::ExitCode> {
    match command {
        Command::Survey(c) => cmd::survey::run(ctx, c).await,
        Command::Roster(c) => cmd::roster::run(ctx, c).await,
        Command::Replies(c) => cmd::replies::run(ctx, c).await,
        Command::Forms(c) => cmd::forms::run(ctx, c).await,
        Command::Scan(c) => cmd::scan::run(ctx, c).await,
        Command::Status => cmd::status::run(ctx).await,
        Command::Review(c) => cmd::review::run(ctx, c).await,
        Command::User(c) => cmd::user::run(ctx, c).await,
        Command::Accuracy(a) => cmd::accuracy::run(ctx, a).await,
        Command::Report(c) => cmd::report::run(ctx, c).await,
        Command::Export(a) => cmd::export::run(ctx, a).await,
        Command::Demo(a) => Box::pin(cmd::demo::run(ctx, a)).await,
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let actor = cli
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".to_owned());
    let ctx = Ctx::new(cli.db.clone(), cli.surveys.clone(), actor, cli.data.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let result = dispatch(&ctx, cli.command).await;
        ctx.close().await;
        result
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
