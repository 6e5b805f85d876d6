//! `capsurvey accuracy --survey ID`: how often the machine's reading was right.

use std::process::ExitCode;

use anyhow::Result;

use crate::Ctx;

/// Arguments of `capsurvey accuracy`.
#[derive(clap::Args, Debug)]
pub struct AccuracyArgs {
    /// Survey id (all its versions), e.g. dental.
    #[arg(long)]
    survey: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints, from reviewed items, how often the machine's guess was right per field kind and
/// confidence band (separately for unsure items and quality samples), and each reviewer's pace.
pub async fn run(ctx: &Ctx, args: AccuracyArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let report = capsurvey_review::accuracy::accuracy_report(store.db(), &args.survey).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
