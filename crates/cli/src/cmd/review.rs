//! `capsurvey review serve`: the web pages where staff finish what the machine could not.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::Ctx;

/// Review site commands.
#[derive(Subcommand, Debug)]
pub enum ReviewCmd {
    /// Serve the review site (queue, responses, accuracy, accounts) until Ctrl-C or SIGTERM.
    ///
    /// Staff log in with accounts made by `capsurvey user add`. The site listens on this machine
    /// only unless --bind says otherwise; to serve other machines, put it behind an HTTPS reverse
    /// proxy and pass --secure-cookies. Several servers may share one PostgreSQL database.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = capsurvey_review::DEFAULT_BIND)]
        bind: SocketAddr,
        /// Data directory holding page images and crops (default: capsurvey-data/ beside the
        /// SQLite database, or in the working directory for PostgreSQL).
        #[arg(long, env = "CAPSURVEY_DATA")]
        data: Option<PathBuf>,
        /// Mark the session cookie Secure (set this when the site is reached over HTTPS).
        #[arg(long)]
        secure_cookies: bool,
        /// Hours a login lasts.
        #[arg(long, default_value_t = 12)]
        session_hours: i64,
    },
}

/// Runs a review command.
pub async fn run(ctx: &Ctx, cmd: ReviewCmd) -> Result<ExitCode> {
    match cmd {
        ReviewCmd::Serve {
            bind,
            data,
            secure_cookies,
            session_hours,
        } => {
            let store = ctx.store().await?;
            let data = data.unwrap_or_else(|| capsurvey_review::default_data_dir(&ctx.db_spec));
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating the data directory {}", data.display()))?;
            if capsurvey_store::users::list_users(store.db())
                .await?
                .is_empty()
            {
                eprintln!(
                    "note: no accounts yet; create one with `capsurvey user add NAME --role admin`"
                );
            }
            let mut config = capsurvey_review::Config::new(data.clone());
            config.bind = bind;
            config.secure_cookies = secure_cookies;
            config.session_hours = session_hours.max(1);
            eprintln!(
                "review site: http://{bind}/  (data: {}; Ctrl-C stops it)",
                data.display()
            );
            capsurvey_review::serve(store, config).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
