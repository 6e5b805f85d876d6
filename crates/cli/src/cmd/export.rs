//! `capsurvey export`: answers as a table, one row per facility.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use capsurvey_report::{ExportFormat, export_table, load_input, write_csv, write_xlsx};
use clap::{Args, ValueEnum};

use crate::Ctx;

/// File formats of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// UTF-8 CSV with a byte-order mark and CRLF, which Excel opens with the Japanese intact.
    Csv,
    /// Excel workbook with a frozen header row and a sheet of codes and labels.
    Xlsx,
}

/// Export one survey's answers: one row per facility that replied, a code and a label column per
/// answer field, answers under review marked 確認中 (see docs/handouts.md, Export).
///
/// Example: capsurvey export --survey dental --format xlsx --out dental.xlsx
#[derive(Args, Debug)]
// --version here is the survey's version, not capsurvey's.
#[command(disable_version_flag = true)]
pub struct ExportArgs {
    /// Survey id: dental, homecare-clinic or visiting-nurse.
    #[arg(long)]
    pub survey: String,
    /// Stored version of the survey (default: the newest stored version).
    #[arg(long)]
    pub version: Option<u32>,
    /// Only facilities in this area (地区); repeat for several.
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
    /// csv or xlsx (default: from the extension of --out).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs the export.
pub async fn run(ctx: &Ctx, args: ExportArgs) -> Result<ExitCode> {
    let format = match args.format {
        Some(Format::Csv) => ExportFormat::Csv,
        Some(Format::Xlsx) => ExportFormat::Xlsx,
        None => match args
            .out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::parse::<ExportFormat>)
        {
            Some(Ok(f)) => f,
            _ => bail!(
                "say --format csv or --format xlsx (cannot tell from {})",
                args.out.display()
            ),
        },
    };
    let store = ctx.store().await?;
    let input = load_input(store.db(), &args.survey, args.version, &args.areas).await?;
    let table = export_table(&input);
    match format {
        ExportFormat::Csv => write_csv(&table, &args.out)?,
        ExportFormat::Xlsx => write_xlsx(&table, &args.out)?,
    }
    println!(
        "wrote {}: {} facilities × {} columns ({} v{})",
        args.out.display(),
        table.rows.len(),
        table.headers.len(),
        input.survey.id,
        input.survey.version
    );
    Ok(ExitCode::SUCCESS)
}
