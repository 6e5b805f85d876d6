//! Finding survey definitions: the `--surveys` folder, or the three shipped with capsurvey.

use std::path::Path;

use anyhow::{Context, Result, bail};
use capsurvey_survey::{Parsed, parse_survey};

/// The definitions compiled into the binary, so a fresh machine has them without the repository.
const SHIPPED: [(&str, &str); 3] = [
    ("dental.toml", include_str!("../../../surveys/dental.toml")),
    (
        "homecare-clinic.toml",
        include_str!("../../../surveys/homecare-clinic.toml"),
    ),
    (
        "visiting-nurse.toml",
        include_str!("../../../surveys/visiting-nurse.toml"),
    ),
];

/// Every definition in `dir` (or the shipped ones if `dir` does not exist), sorted by id.
pub fn load_all(dir: &Path) -> Result<Vec<Parsed>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            out.push(load_file(&p)?);
        }
    } else {
        for (name, text) in SHIPPED {
            out.push(parse_survey(&format!("(shipped) {name}"), text)?);
        }
    }
    out.sort_by(|a, b| a.survey.id.cmp(&b.survey.id));
    Ok(out)
}

/// One definition file.
pub fn load_file(path: &Path) -> Result<Parsed> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse_survey(&path.display().to_string(), &text)?)
}

/// The definition with this id.
pub fn find(dir: &Path, id: &str) -> Result<Parsed> {
    let all = load_all(dir)?;
    let ids: Vec<String> = all.iter().map(|p| p.survey.id.clone()).collect();
    match all.into_iter().find(|p| p.survey.id == id) {
        Some(p) => Ok(p),
        None => bail!(
            "no survey `{id}` in {}: known surveys are {}",
            dir.display(),
            ids.join(", ")
        ),
    }
}
