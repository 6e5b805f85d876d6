//! `capsurvey survey list|show|check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use capsurvey_survey::QuestionKind;
use clap::Subcommand;

use crate::{Ctx, surveys};

/// Survey definition commands.
#[derive(Subcommand, Debug)]
pub enum SurveyCmd {
    /// List the surveys in the surveys folder (or the shipped ones).
    List,
    /// Print one survey: sections, questions, options, answer keys and skip rules.
    Show {
        /// Survey id, e.g. dental, homecare-clinic, visiting-nurse.
        id: String,
    },
    /// Validate definition files; every problem is shown as FILE:LINE:COLUMN.
    ///
    /// Checks unique ids, options on choice questions, skip targets that exist and point forward,
    /// and sane ranges. Exits non-zero if any file has a problem.
    Check {
        /// Definition files (e.g. surveys/*.toml).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs a survey command.
pub async fn run(ctx: &Ctx, cmd: SurveyCmd) -> Result<ExitCode> {
    match cmd {
        SurveyCmd::List => {
            println!(
                "{:<18} {:>3}  {:<16} {:>9}  title",
                "id", "ver", "facility type", "questions"
            );
            for p in surveys::load_all(&ctx.surveys_dir)? {
                let s = &p.survey;
                println!(
                    "{:<18} {:>3}  {:<16} {:>9}  {}",
                    s.id,
                    s.version,
                    s.facility_type,
                    s.questions().count(),
                    s.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SurveyCmd::Show { id } => {
            let p = surveys::find(&ctx.surveys_dir, &id)?;
            print!("{}", describe(&p));
            Ok(ExitCode::SUCCESS)
        }
        SurveyCmd::Check { files } => {
            let mut failed = 0;
            for f in &files {
                match surveys::load_file(f) {
                    Ok(p) => println!(
                        "ok    {} ({} v{}, {} questions, hash {})",
                        f.display(),
                        p.survey.id,
                        p.survey.version,
                        p.survey.questions().count(),
                        &p.content_hash[..12]
                    ),
                    Err(e) => {
                        failed += 1;
                        eprintln!("{e:#}");
                    }
                }
            }
            if failed > 0 {
                eprintln!("{failed} of {} definition(s) have problems", files.len());
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

fn describe(p: &capsurvey_survey::Parsed) -> String {
    use std::fmt::Write;
    let s = &p.survey;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} (id {}, version {}, {})",
        s.title, s.id, s.version, s.facility_type
    );
    let _ = writeln!(
        o,
        "reference date {}  content hash {}",
        s.reference_date, p.content_hash
    );
    for sec in &s.sections {
        let _ = writeln!(o, "\n[{}] {}", sec.id, sec.title);
        for q in &sec.questions {
            let number = s.number_of(&q.id).unwrap_or_default();
            let req = if q.required { " *required" } else { "" };
            let kind = match q.kind {
                QuestionKind::Count | QuestionKind::Decimal => format!(
                    "{:?} {}..{} {}",
                    q.kind,
                    q.min.unwrap_or(0.0),
                    q.max.unwrap_or(0.0),
                    q.unit.as_deref().unwrap_or("")
                ),
                k => format!("{k:?}"),
            };
            let _ = writeln!(o, "  問{number} {} [{}] {}{req}", q.id, kind, q.text);
            for opt in &q.options {
                let extra = match (opt.write_in, opt.exclusive) {
                    (Some(w), _) => format!(" (+ write-in {w:?}: {}.{})", q.id, opt.code),
                    (None, true) => " (excludes others)".into(),
                    _ => String::new(),
                };
                let _ = writeln!(o, "      {:>4}  {}{extra}", opt.code, opt.label);
            }
            for it in &q.items {
                let _ = writeln!(o, "      {}.{}  {}", q.id, it.code, it.label);
            }
            for sk in &q.skip {
                let _ = writeln!(o, "      skip: if {} → {}", sk.when.join(" or "), sk.to);
            }
        }
    }
    o
}
