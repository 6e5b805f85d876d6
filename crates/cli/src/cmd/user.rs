//! `capsurvey user add|list|passwd|disable|enable`: accounts of the review site.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use capsurvey_store::users::{self as accounts, Role};
use clap::Subcommand;

use crate::Ctx;

/// Account commands.
#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Create an account. The password is asked for without echo; scripts pass it in the
    /// CAPSURVEY_PASSWORD environment variable or on standard input with --password-stdin.
    Add {
        /// Login name (1-64 characters, no spaces).
        name: String,
        /// admin (everything, accounts too), entry (resolve items, edit answers) or viewer (read only).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Set a new password (ends the user's sessions).
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account (it cannot log in; its sessions end).
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// Login name.
        name: String,
    },
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    s.parse()
}

/// The new password: CAPSURVEY_PASSWORD, standard input, or asked twice on the terminal.
fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Ok(p) = std::env::var("CAPSURVEY_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask the password on: set CAPSURVEY_PASSWORD or pass --password-stdin"
        );
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second = rpassword::prompt_password("Password again: ").context("reading the password")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

async fn user_id(store: &capsurvey_store::Store, name: &str) -> Result<i64> {
    match accounts::user_by_name(store.db(), name).await? {
        Some(u) => Ok(u.id),
        None => bail!("no user `{name}` (capsurvey user list shows them)"),
    }
}

/// Runs an account command.
pub async fn run(ctx: &Ctx, cmd: UserCmd) -> Result<ExitCode> {
    let store = ctx.store().await?;
    match cmd {
        UserCmd::Add {
            name,
            role,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let u = capsurvey_review::auth::add_user(&store, &name, role, &password, &ctx.actor)
                .await?;
            println!("created user {} ({})", u.name, role);
        }
        UserCmd::List => {
            let users = accounts::list_users(store.db()).await?;
            if users.is_empty() {
                println!("No accounts yet: capsurvey user add NAME --role admin");
            } else {
                println!("{:<20} {:<7} {:<9} created", "name", "role", "status");
                for u in users {
                    let status = if u.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<20} {:<7} {:<9} {}",
                        u.name,
                        u.role,
                        status,
                        u.created_at.format("%Y-%m-%d %H:%M UTC")
                    );
                }
            }
        }
        UserCmd::Passwd {
            name,
            password_stdin,
        } => {
            let id = user_id(&store, &name).await?;
            let password = read_password(password_stdin)?;
            capsurvey_review::auth::change_password(&store, id, &password, &ctx.actor).await?;
            println!("password of {name} changed; their sessions ended");
        }
        UserCmd::Disable { name } => {
            let id = user_id(&store, &name).await?;
            accounts::set_user_disabled(store.db(), id, true, &ctx.actor).await?;
            println!("{name} disabled");
        }
        UserCmd::Enable { name } => {
            let id = user_id(&store, &name).await?;
            accounts::set_user_disabled(store.db(), id, false, &ctx.actor).await?;
            println!("{name} enabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}
