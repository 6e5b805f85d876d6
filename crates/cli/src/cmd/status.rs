//! `capsurvey status`.

use std::process::ExitCode;

use anyhow::Result;

use crate::Ctx;

/// Prints, per survey version, facilities, mailed, answered and under review; then pages
/// nobody could identify and forms with pages missing.
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
    let unidentified = capsurvey_store::unidentified_pages_open(store.db()).await?;
    if unidentified > 0 {
        println!(
            "{unidentified} received page(s) could not be identified: assign them in the review site (capsurvey review serve)"
        );
    }
    let catalog = capsurvey_ingest::Catalog::load(store.db()).await?;
    let missing = capsurvey_ingest::missing::missing_pages(store.db(), &catalog, None).await?;
    if !missing.is_empty() {
        println!(
            "{} form(s) have pages still missing: capsurvey scan missing",
            missing.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
