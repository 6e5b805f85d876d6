//! `capsurvey roster import|list|set-area`: wiring only; reading and merging are in
//! capsurvey-roster (formats in docs/roster-format.md).

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use capsurvey_roster::{
    AreaMap, FileOutcome, FileReport, ImportOptions, ListFilter, Progress, assign_areas,
    import_file, list, render_csv, render_table, set_area_override,
};
use capsurvey_survey::FacilityType;
use clap::{Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Ctx;

/// Roster commands.
#[derive(Subcommand, Debug)]
pub enum RosterCmd {
    /// Import roster files and merge them into the roster by facility code.
    ///
    /// Reads 医療情報ネット (ナビイ) 施設票 CSV, 介護サービス情報公表 CSV (jigyosho_130), the
    /// 地方厚生局's 届出受理医療機関名簿 (xlsx) and your own list (CSV: コード, 種別, 名称, 住所, 電話,
    /// FAX, 地区). The layout is recognised from the header row, the encoding (UTF-8 or Shift_JIS)
    /// from the bytes. A file already imported (same content) is skipped; bad rows are reported
    /// with their line and the rest is imported. See docs/roster-format.md.
    Import {
        /// Roster files (.csv, .xlsx).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Facility type for rows whose file does not say: dental, homecare-clinic or visiting-nurse.
        #[arg(long = "type", value_name = "TYPE")]
        facility_type: Option<FacilityType>,
        /// Area map (CSV with 種類,キー,地区: address prefixes or facility codes → area); areas of
        /// all facilities are re-assigned from it.
        #[arg(long, value_name = "FILE")]
        area_map: Option<PathBuf>,
    },
    /// List facilities: code, type, name, area (* = set by hand), phone, FAX, address.
    List {
        /// Only this facility type: dental, homecare-clinic or visiting-nurse.
        #[arg(long = "type", value_name = "TYPE")]
        facility_type: Option<FacilityType>,
        /// Only this area.
        #[arg(long)]
        area: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Set a facility's area by hand; it wins over the area map and survives re-imports.
    SetArea {
        /// Facility code (as `roster list` shows it).
        code: String,
        /// The area name.
        #[arg(required_unless_present = "clear", conflicts_with = "clear")]
        area: Option<String>,
        /// Remove the manual area, so the area map's applies again.
        #[arg(long)]
        clear: bool,
    },
}

/// How `roster list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for the terminal.
    Table,
    /// CSV (UTF-8) for spreadsheets.
    Csv,
}

/// Runs a roster command.
pub async fn run(ctx: &Ctx, cmd: RosterCmd) -> Result<ExitCode> {
    match cmd {
        RosterCmd::Import {
            files,
            facility_type,
            area_map,
        } => import(ctx, &files, facility_type, area_map).await,
        RosterCmd::List {
            facility_type,
            area,
            format,
        } => {
            let store = ctx.store().await?;
            let rows = list(
                store.db(),
                &ListFilter {
                    facility_type,
                    area,
                },
            )
            .await?;
            match format {
                Format::Table => print!("{}", render_table(&rows)),
                Format::Csv => print!("{}", render_csv(&rows)),
            }
            Ok(ExitCode::SUCCESS)
        }
        RosterCmd::SetArea { code, area, clear } => {
            let store = ctx.store().await?;
            let area = if clear { None } else { area.as_deref() };
            let r = set_area_override(store.db(), &code, area, &ctx.actor).await?;
            let show = |a: &Option<String>| a.clone().unwrap_or_else(|| "(none)".into());
            match &r.after {
                Some(a) => println!(
                    "{} {}: area {a} (set by hand; was {})",
                    r.code,
                    r.name,
                    show(&r.before)
                ),
                None => println!(
                    "{} {}: area set by hand cleared; area from the map: {}",
                    r.code,
                    r.name,
                    show(&r.assigned)
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn import(
    ctx: &Ctx,
    files: &[PathBuf],
    default_type: Option<FacilityType>,
    area_map: Option<PathBuf>,
) -> Result<ExitCode> {
    // Read the map first: a broken map stops the import before anything is written.
    let map = area_map.as_deref().map(AreaMap::load).transpose()?;
    let store = ctx.store().await?;
    let db = store.db();
    let opts = ImportOptions {
        default_type,
        area_map: map.as_ref(),
        actor: &ctx.actor,
    };
    let show_progress = std::io::stderr().is_terminal();
    let mut failed = 0;
    for (i, path) in files.iter().enumerate() {
        let bar = if show_progress {
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} facilities")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(0).with_style(style).with_prefix(format!(
                "[{}/{}] {}",
                i + 1,
                files.len(),
                path.display()
            ))
        } else {
            ProgressBar::hidden()
        };
        let mut progress = |p: Progress| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            ControlFlow::Continue(())
        };
        let result = import_file(db, path, &opts, &mut progress).await;
        bar.finish_and_clear();
        match result {
            Ok(FileOutcome::Imported(report)) => {
                print_report(&report);
                failed += usize::from(report.imported_file_id.is_none());
            }
            Ok(FileOutcome::AlreadyImported {
                path,
                first_path,
                imported_at,
            }) => println!(
                "{path}: already imported on {} (as {first_path}); nothing changed",
                imported_at.format("%Y-%m-%d %H:%M UTC")
            ),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if let (Some(map), Some(map_path)) = (&map, &area_map) {
        let changed = assign_areas(db, map, &ctx.actor).await?;
        println!(
            "areas: {changed} facilities re-assigned from {}",
            map_path.display()
        );
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} file(s) were not imported; the others were",
            files.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &FileReport) {
    println!("{}: {}, {}", r.path, r.layout, r.encoding);
    println!(
        "  rows read {}, facilities {}: created {}, updated {}, unchanged {}, errors {}",
        r.rows_read,
        r.records,
        r.created,
        r.updated,
        r.unchanged,
        r.errors.len()
    );
    for e in &r.errors {
        println!("  {}:{}: {}", r.path, e.line, e.reason);
    }
    if r.imported_file_id.is_none() {
        println!(
            "  nothing imported; the file is not recorded, so it can be imported again once corrected"
        );
    }
}
