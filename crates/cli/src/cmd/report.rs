//! `capsurvey report render|templates`: the briefing handout (報告会資料).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use capsurvey_report::{Renderer, ReportOptions, aggregate, load_input};
use clap::Subcommand;

use crate::Ctx;

/// Handout commands.
#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Render a survey's handout to one self-contained HTML file (A4, print it or save as PDF).
    ///
    /// Cover with 回収状況 (sent, answered, rate per facility type and area), the rules behind the
    /// numbers, every question with n, counts and % including 無回答 and bar charts, count
    /// statistics and bins, cross-tabs by area and filing type, reasons ranked, free-text answers,
    /// and the capability grid with lists of facilities that agreed to be listed. Answers still under
    /// review are never counted; each question says how many there are. See docs/handouts.md.
    ///
    /// Example: capsurvey report render --survey dental --area 北沢 --min-cell 3 --out dental.html
    // --version here is the survey's version, not capsurvey's.
    #[command(disable_version_flag = true)]
    Render {
        /// Survey id: dental, homecare-clinic or visiting-nurse.
        #[arg(long)]
        survey: String,
        /// Stored version of the survey (default: the newest stored version).
        #[arg(long)]
        version: Option<u32>,
        /// Only facilities in this area (地区); repeat for several areas, listed in that order.
        #[arg(long = "area", value_name = "AREA")]
        areas: Vec<String>,
        /// The HTML file to write.
        #[arg(long, value_name = "FILE.html")]
        out: PathBuf,
        /// Folder of your own templates: a file there replaces the default of the same name
        /// (start from `capsurvey report templates DIR`).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Print counts from 1 to N-1 as 「*」 so that small groups cannot be identified
        /// (e.g. 3 hides 1 and 2); 0 shows every count.
        #[arg(long, value_name = "N", default_value_t = 0)]
        min_cell: u64,
    },
    /// Write the default templates into a folder, as a starting point for --templates.
    Templates {
        /// Folder to write handout.html.j2, style.css.j2 and the parts into.
        dir: PathBuf,
    },
}

/// Runs a report command.
pub async fn run(ctx: &Ctx, cmd: ReportCmd) -> Result<ExitCode> {
    match cmd {
        ReportCmd::Render {
            survey,
            version,
            areas,
            out,
            templates,
            min_cell,
        } => {
            // Check the templates before the (longer) database work.
            let renderer = Renderer::new(templates.as_deref())?;
            let store = ctx.store().await?;
            let input = load_input(store.db(), &survey, version, &areas).await?;
            if input.facilities.is_empty() {
                anyhow::bail!(
                    "no facility was sent survey `{survey}` v{} or replied to it{}",
                    input.survey.version,
                    if areas.is_empty() {
                        String::new()
                    } else {
                        format!(" in {}", areas.join(", "))
                    }
                );
            }
            let mut opts = ReportOptions::new(chrono::Local::now().date_naive());
            opts.min_cell = min_cell;
            let report = aggregate(&input, &opts);
            let html = renderer.render(&report)?;
            std::fs::write(&out, &html).with_context(|| format!("writing {}", out.display()))?;
            let c = &report.collection.total;
            println!(
                "wrote {} ({} KB): {} v{}, {} of {} facilities answered ({}%)",
                out.display(),
                html.len() / 1024,
                report.survey.id,
                report.survey.version,
                c.answered,
                c.sent,
                c.rate_text
            );
            if report.notes.under_review_answers > 0 {
                println!(
                    "  {} answers are under review and not counted (finish them in capsurvey review, then render again)",
                    report.notes.under_review_answers
                );
            }
            if report.notes.suppressed_cells > 0 {
                println!(
                    "  {} cells shown as * (--min-cell {min_cell})",
                    report.notes.suppressed_cells
                );
            }
            for w in &report.warnings {
                println!("  note: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportCmd::Templates { dir } => {
            capsurvey_report::render::write_default_templates(&dir)?;
            println!(
                "wrote the default templates to {}; edit them and pass --templates {}",
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
