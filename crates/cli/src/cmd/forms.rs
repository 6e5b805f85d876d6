//! `capsurvey forms generate|check|calibration|layout`: the printed survey forms.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use capsurvey_forms::campaign::Campaign;
use capsurvey_forms::form::{Facility, FormInstance, FormKind, FormTemplate};
use capsurvey_forms::pdf::{Document, DocumentInfo, write_combined};
use capsurvey_store::entity::facilities;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use sea_orm::TransactionTrait;

use crate::{Ctx, surveys};

/// The campaign settings used when `--campaign` is not given (if the file exists).
pub const DEFAULT_CAMPAIGN: &str = "fixtures/campaign.toml";

/// Form commands.
#[derive(Subcommand, Debug)]
pub enum FormsCmd {
    /// Generate the forms of one mailing batch: one PDF per facility, a print file, the layout.
    ///
    /// Every run is a new batch: the selected facilities each get a new mailing (form code,
    /// printed as 管理No, and page codes) recorded in the database. Forms go to facilities of the
    /// survey's facility type, in mailing order (by area, then facility code).
    ///
    /// Writes DIR/<facility code>_<name>_<form code>.pdf per facility, the combined
    /// DIR/print_<survey>_<batch>.pdf for the print shop, and DIR/layout_<survey>_v<version>.json.
    Generate(GenerateArgs),
    /// Report what in a survey's form would break recognition or reading.
    ///
    /// Boxes too small or too close, marks, codes or boxes in the fax margin, text that runs off
    /// the page, a cover letter too long, more pages than max_pages of the campaign settings.
    /// Exits non-zero if anything is found.
    Check {
        /// Survey id (dental, homecare-clinic, visiting-nurse).
        #[arg(long)]
        survey: String,
        /// Campaign settings file (docs/campaign-settings.md); default fixtures/campaign.toml.
        #[arg(long)]
        campaign: Option<PathBuf>,
    },
    /// Write the calibration page: printed and faxed back, it shows printer scaling and fax edge loss.
    ///
    /// Print it on the printer the forms will be printed on, fax it from a machine replies will
    /// come from (or scan it), and give the received file to `capsurvey scan calibration FILE`
    /// (or include it in a `scan ingest`): it reports the scale and how much of each edge was lost.
    Calibration {
        /// The PDF file to write.
        #[arg(long)]
        out: PathBuf,
        /// Campaign settings, to print the return FAX number (optional).
        #[arg(long)]
        campaign: Option<PathBuf>,
    },
    /// Write the layout file (JSON, docs/layout-format.md) of a survey version.
    Layout {
        /// Survey id.
        #[arg(long)]
        survey: String,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Options of `forms generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Survey id (dental, homecare-clinic, visiting-nurse).
    #[arg(long)]
    survey: String,
    /// Only these facilities (facility code; repeat the option for several).
    #[arg(long = "facility", value_name = "CODE")]
    facilities: Vec<String>,
    /// Only facilities in these areas (the hand-set area wins over the mapped one; repeatable).
    #[arg(long = "area", value_name = "AREA")]
    areas: Vec<String>,
    /// Batch name; default: the date and the survey (20241108-dental), made unique.
    #[arg(long)]
    batch: Option<String>,
    /// Reminders: only facilities sent this survey version before that have not answered, with the reminder letter.
    #[arg(long, conflicts_with = "blank")]
    reminder: bool,
    /// One blank form with no facility pre-printed (for new facilities and walk-ins).
    #[arg(long, conflicts_with_all = ["facilities", "areas"])]
    blank: bool,
    /// Campaign settings file (docs/campaign-settings.md); default fixtures/campaign.toml.
    #[arg(long)]
    campaign: Option<PathBuf>,
    /// Folder to write the PDFs and the layout file into (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs a forms command.
pub async fn run(ctx: &Ctx, cmd: FormsCmd) -> Result<ExitCode> {
    match cmd {
        FormsCmd::Generate(args) => generate(ctx, args).await,
        FormsCmd::Check { survey, campaign } => check(ctx, &survey, campaign.as_deref()),
        FormsCmd::Calibration { out, campaign } => {
            let campaign = match campaign {
                Some(p) => Some(Campaign::load(&p)?),
                None => None,
            };
            let doc = capsurvey_forms::calibration::calibration_document(campaign.as_ref())?;
            write_file(&out, &doc.to_pdf()?)?;
            println!("wrote {}", out.display());
            println!(
                "Print it as you print the forms, fax it from the machine the replies will come from, \
                 and import the received page: it shows printer scaling and how much the fax cut off."
            );
            Ok(ExitCode::SUCCESS)
        }
        FormsCmd::Layout { survey, out } => {
            let parsed = surveys::find(&ctx.surveys_dir, &survey)?;
            let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
            write_file(&out, layout.to_json().as_bytes())?;
            let boxes: usize = layout.pages.iter().map(|p| p.boxes.len()).sum();
            println!(
                "wrote {} ({} pages, {boxes} boxes)",
                out.display(),
                layout.pages.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The campaign settings: `--campaign`, else fixtures/campaign.toml if it exists.
fn load_campaign(path: Option<&Path>) -> Result<Campaign> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(DEFAULT_CAMPAIGN);
            if !p.is_file() {
                bail!(
                    "no campaign settings: pass --campaign FILE (the sender, return FAX number and deadline \
                     printed on the forms; see docs/campaign-settings.md and the example {DEFAULT_CAMPAIGN})"
                );
            }
            p
        }
    };
    Ok(Campaign::load(&path)?)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn check(ctx: &Ctx, survey: &str, campaign: Option<&Path>) -> Result<ExitCode> {
    let parsed = surveys::find(&ctx.surveys_dir, survey)?;
    let campaign = load_campaign(campaign)?;
    let report =
        capsurvey_forms::check::check_survey(&parsed.survey, &parsed.content_hash, Some(&campaign));
    let l = &report.layout;
    let boxes: Vec<_> = l.pages.iter().flat_map(|p| p.boxes.iter()).collect();
    let count = |k: capsurvey_layout::BoxKind| boxes.iter().filter(|b| b.kind == k).count();
    println!(
        "{} v{}: {} pages (cover letter included{}), {} boxes: {} check, {} digit, {} text, {} free-text",
        parsed.survey.id,
        parsed.survey.version,
        l.pages.len(),
        report
            .max_pages
            .map(|m| format!(", at most {m}"))
            .unwrap_or_default(),
        boxes.len(),
        count(capsurvey_layout::BoxKind::Choice),
        count(capsurvey_layout::BoxKind::Digit),
        count(capsurvey_layout::BoxKind::Text),
        count(capsurvey_layout::BoxKind::Area),
    );
    if report.is_ok() {
        println!("ok: nothing found that would break recognition or reading");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &report.problems {
            eprintln!("problem: {p}");
        }
        eprintln!("{} problem(s)", report.problems.len());
        Ok(ExitCode::FAILURE)
    }
}

/// A file name part from a facility name: no path separators or characters Windows refuses,
/// spaces as `_`, at most 40 characters.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || c.is_whitespace() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(40)
        .collect();
    if s.is_empty() { "_".into() } else { s }
}

fn facility_data(f: &facilities::Model) -> Facility {
    Facility {
        code: f.code.clone(),
        name: f.name.clone(),
        postal_code: f.postal_code.clone(),
        address: f.address.clone(),
        phone: f.phone.clone(),
        fax: f.fax.clone(),
    }
}

async fn generate(ctx: &Ctx, a: GenerateArgs) -> Result<ExitCode> {
    let parsed = surveys::find(&ctx.surveys_dir, &a.survey)?;
    let survey = &parsed.survey;
    let campaign = load_campaign(a.campaign.as_deref())?;
    let today = chrono::Local::now().date_naive();
    // The template first: a letter that does not fit is reported before anything is stored.
    let template = FormTemplate::new(survey, &parsed.content_hash, &campaign, today)?;
    let kind = if a.blank {
        FormKind::Blank
    } else if a.reminder {
        FormKind::Reminder
    } else {
        FormKind::Initial
    };
    let facility_type = survey.facility_type.as_str();

    let store = ctx.store().await?;
    let txn = store.db().begin().await?;
    let version = capsurvey_store::register_survey(&txn, &parsed, &ctx.actor).await?;
    let survey_version_id = u32::try_from(version.id)
        .ok()
        .filter(|id| *id <= 0xFFF)
        .with_context(|| {
            format!(
                "survey version id {} does not fit the page code (at most 4095)",
                version.id
            )
        })?;

    // Which facilities.
    let selected: Vec<facilities::Model> = if a.blank {
        Vec::new()
    } else {
        let all = capsurvey_store::facilities_of_type(&txn, facility_type).await?;
        if all.is_empty() {
            bail!(
                "no {facility_type} facilities on the roster: import a roster first (capsurvey roster import)"
            );
        }
        let mut chosen = all;
        if !a.facilities.is_empty() {
            let unknown: Vec<&String> = a
                .facilities
                .iter()
                .filter(|c| !chosen.iter().any(|f| &f.code == *c))
                .collect();
            if !unknown.is_empty() {
                bail!(
                    "no {facility_type} facility with code {}",
                    unknown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            chosen.retain(|f| a.facilities.contains(&f.code));
        }
        if !a.areas.is_empty() {
            chosen.retain(|f| {
                capsurvey_store::effective_area(f).is_some_and(|x| a.areas.iter().any(|a| a == x))
            });
        }
        if a.reminder {
            let answered = capsurvey_store::responding_facility_ids(&txn, version.id).await?;
            let mailed: std::collections::HashSet<i64> =
                capsurvey_store::mailings_of(&txn, version.id)
                    .await?
                    .into_iter()
                    .filter_map(|m| m.facility_id)
                    .collect();
            let before = chosen.len();
            chosen.retain(|f| mailed.contains(&f.id) && !answered.contains(&f.id));
            println!(
                "reminders: {} of {before} selected facilities were sent this survey and have not answered",
                chosen.len()
            );
        }
        if chosen.is_empty() {
            bail!("no facility matches: nothing to generate");
        }
        chosen
    };

    let batch = match &a.batch {
        Some(b) => {
            if capsurvey_store::batch_exists(&txn, version.id, b).await? {
                bail!(
                    "batch `{b}` already exists for {} v{}: choose another --batch name",
                    survey.id,
                    survey.version
                );
            }
            b.clone()
        }
        None => {
            let suffix = match kind {
                FormKind::Initial => "",
                FormKind::Reminder => "-reminder",
                FormKind::Blank => "-blank",
            };
            let base = format!("{}-{}{suffix}", today.format("%Y%m%d"), survey.id);
            capsurvey_store::unused_batch_name(&txn, version.id, &base).await?
        }
    };
    let ids: Vec<Option<i64>> = if a.blank {
        vec![None]
    } else {
        selected.iter().map(|f| Some(f.id)).collect()
    };
    let mailings = capsurvey_store::create_mailings(
        &txn,
        version.id,
        facility_type,
        &batch,
        kind.as_str(),
        &ids,
        &ctx.actor,
    )
    .await?;

    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut written: Vec<PathBuf> = Vec::new();
    let result = write_batch(
        &a.out,
        &template,
        survey,
        survey_version_id,
        kind,
        &batch,
        &selected,
        &mailings,
        &mut written,
    );
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            // Nothing was stored; do not leave files whose codes could be given out again.
            for p in &written {
                std::fs::remove_file(p).ok();
            }
            return Err(e);
        }
    };
    txn.commit().await?;

    println!(
        "{} v{} batch `{batch}`: {} {} form(s), {} pages each, {:.0} KB per form on average",
        survey.id,
        survey.version,
        mailings.len(),
        kind.as_str(),
        template.page_count(),
        summary.bytes as f64 / mailings.len().max(1) as f64 / 1024.0
    );
    match (mailings.first(), mailings.last()) {
        (Some(first), Some(last)) if first.id != last.id => {
            println!("form codes {} … {}", first.form_code, last.form_code)
        }
        (Some(first), _) => println!("form code {}", first.form_code),
        _ => {}
    }
    for p in &summary.main_files {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

struct Summary {
    bytes: u64,
    main_files: Vec<PathBuf>,
}

#[allow(clippy::too_many_arguments)]
fn write_batch(
    out: &Path,
    template: &FormTemplate,
    survey: &capsurvey_survey::Survey,
    survey_version_id: u32,
    kind: FormKind,
    batch: &str,
    selected: &[facilities::Model],
    mailings: &[capsurvey_store::entity::mailings::Model],
    written: &mut Vec<PathBuf>,
) -> Result<Summary> {
    let layout_path = out.join(format!("layout_{}_v{}.json", survey.id, survey.version));
    write_file(&layout_path, template.layout().to_json().as_bytes())?;
    written.push(layout_path.clone());
    let mut main_files = vec![layout_path];

    if kind == FormKind::Blank {
        let m = &mailings[0];
        let doc = template.render(&FormInstance {
            kind,
            facility: None,
            survey_version_id,
            mailing_id: 0,
            form_code: Some(&m.form_code),
        })?;
        let path = out.join(format!("blank_{}_v{}.pdf", survey.id, survey.version));
        let bytes = doc.to_pdf()?;
        write_file(&path, &bytes)?;
        written.push(path.clone());
        main_files.push(path);
        return Ok(Summary {
            bytes: bytes.len() as u64,
            main_files,
        });
    }

    let by_id: HashMap<i64, &facilities::Model> = selected.iter().map(|f| (f.id, f)).collect();
    let bar = crate::progress::bar(mailings.len() as u64, "forms");
    let rendered: Vec<Result<(PathBuf, Document, u64)>> = mailings
        .par_iter()
        .map(|m| {
            let f = by_id[&m.facility_id.expect("facility mailings have a facility")];
            let facility = facility_data(f);
            let mailing_id = u32::try_from(m.id).context("mailing id")?;
            let doc = template.render(&FormInstance {
                kind,
                facility: Some(&facility),
                survey_version_id,
                mailing_id,
                form_code: Some(&m.form_code),
            })?;
            let bytes = doc.to_pdf()?;
            let path = out.join(format!(
                "{}_{}_{}.pdf",
                sanitize(&f.code),
                sanitize(&f.name),
                m.form_code
            ));
            write_file(&path, &bytes)?;
            bar.inc(1);
            Ok((path, doc, bytes.len() as u64))
        })
        .collect();
    bar.finish_and_clear();
    let mut docs = Vec::with_capacity(rendered.len());
    let mut bytes = 0;
    let mut first_error = None;
    for r in rendered {
        match r {
            Ok((path, doc, n)) => {
                written.push(path);
                docs.push(doc);
                bytes += n;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    // The print file: every form in mailing order (by area, then facility code).
    let print = out.join(format!("print_{}_{}.pdf", survey.id, sanitize(batch)));
    let info = DocumentInfo::new(format!(
        "{} 印刷用 {batch}（{}通）",
        survey.title,
        docs.len()
    ));
    write_file(&print, &write_combined(&info, &docs)?)?;
    written.push(print.clone());
    main_files.push(print);
    Ok(Summary { bytes, main_files })
}
