//! `capsurvey status`.

use std::process::ExitCode;

use anyhow::Result;

use crate::Ctx;

/// Prints, per survey version, facilities, mailed, answered and under review.
pub async fn run(ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let rows = capsurvey_store::status(store.db()).await?;
    if rows.is_empty() {
        println!(
            "No survey in use yet. Import a roster (capsurvey roster import) and generate forms (capsurvey forms generate)."
        );
        println!(
            "facilities on the roster: {}",
            capsurvey_store::facility_count(store.db()).await?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<18} {:>3} {:>10} {:>7} {:>9} {:>6} {:>12} {:>10}",
        "survey", "ver", "facilities", "mailed", "answered", "rate", "under review", "open pages"
    );
    for r in rows {
        let rate = if r.mailed > 0 {
            format!("{:.1}%", 100.0 * r.answered as f64 / r.mailed as f64)
        } else {
            "-".into()
        };
        println!(
            "{:<18} {:>3} {:>10} {:>7} {:>9} {:>6} {:>12} {:>10}",
            r.survey_id,
            r.version,
            r.facilities,
            r.mailed,
            r.answered,
            rate,
            r.under_review,
            r.open_tasks
        );
    }
    Ok(ExitCode::SUCCESS)
}
