//! Assessment frameworks as data: the types of a framework file, loading and validation.
//!
//! A framework is read from a TOML file in `frameworks/`, checked, and then used unchanged: the
//! JSON at `/frameworks/{code}.json` is this structure serialised.

mod text;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use text::{Block, blocks};
pub use validate::FrameworkFault;

impl Rating {
    pub fn requires(&self, r: Requirement) -> bool {
        self.requires.contains(&r)
    }
}

/// One framework edition, exactly as loaded from its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub code: String,
    pub edition: String,
    pub title: String,
    pub publisher: String,
    pub attribution: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    pub section_label: String,
    pub item_label: String,
    /// What the service calls an assessment on this framework ("Prevent duty self-assessment").
    pub assessment_name: String,
    /// Which of the service's instruments this is: who answers it and who checks it.
    #[serde(default)]
    pub kind: Instrument,
    /// The address segment of a section's page: `/assessments/{id}/{section_path}/{n}`.
    #[serde(default = "default_section_path")]
    pub section_path: String,
    /// Whether an item's prompts are footnotes to its text (shown, not answered one by one)
    /// rather than prompts for evidence.
    #[serde(default)]
    pub prompts_are_footnotes: bool,
    /// What an action on an item is called ("Area for improvement"), and its target
    /// ("Timescale for completion").
    #[serde(default = "default_action_label")]
    pub action_label: String,
    #[serde(default = "default_target_label")]
    pub target_label: String,
    pub scored: bool,
    /// The answer scale recorded against each item (a status, or a compliance rating).
    pub ratings: Vec<Rating>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sign_off: Vec<SignOffField>,
    pub sections: Vec<Section>,
}

/// One value of the answer scale, such as "Not yet started" or "Green".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub code: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// What an answer with this rating must also give.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
}

/// Something a rating requires of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// The evidence box says why (the further details behind an Amber or Red).
    Details,
    /// The evidence box gives the reason (why a statement does not apply).
    Reason,
    /// At least one action on the item with a timescale (an area for improvement).
    Improvement,
}

/// A field completed when the assessment is signed off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOffField {
    pub code: String,
    pub label: String,
}

/// A benchmark, or a key area of control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub number: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default)]
    pub may_be_not_scored: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    pub items: Vec<Item>,
    #[serde(default)]
    pub levels: Vec<Level>,
}

/// A question, or a statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemKind>,
    pub text: String,
    #[serde(default)]
    pub prompts: Vec<String>,
    /// Facts the item asks for besides its evidence (a named chair and their email).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ItemField>,
    /// Said beside those facts (who they are shared with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_notice: Option<String>,
}

/// A fact an item asks for in a field of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemField {
    pub code: String,
    pub label: String,
    /// An email address (checked as one).
    #[serde(default)]
    pub email: bool,
}

/// Whether a question is the statutory minimum or good practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Expectation,
    GoodPractice,
}

impl ItemKind {
    /// The heading the toolkit uses for questions of this kind.
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Expectation => "Expectation of compliance",
            ItemKind::GoodPractice => "Good practice activity",
        }
    }
}

/// One of the five scoring levels of a benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub score: u8,
    pub descriptor: String,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
}

/// A checkable part of a level descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub text: String,
}

/// The instruments the service runs: a council's self-assessment, reviewed and scored by its
/// regional adviser; or its Channel Panel assurance statement, answered by its lead, signed by
/// its signatory and checked by the Home Office's Channel team.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    #[default]
    SelfAssessment,
    ChannelStatement,
}

fn default_action_label() -> String {
    "Action".to_owned()
}

fn default_target_label() -> String {
    "Target".to_owned()
}

fn default_section_path() -> String {
    "benchmarks".to_owned()
}

impl Framework {
    /// The rating with this code, if the framework has it.
    pub fn rating(&self, code: &str) -> Option<&Rating> {
        self.ratings.iter().find(|r| r.code == code)
    }

    /// The section with this number.
    pub fn section(&self, number: u32) -> Option<&Section> {
        self.sections.iter().find(|s| s.number == number)
    }

    /// How many items the framework has in all.
    pub fn item_count(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }

    /// The label of a rating code, if the framework has it.
    pub fn rating_label(&self, code: &str) -> Option<&str> {
        self.ratings
            .iter()
            .find(|r| r.code == code)
            .map(|r| r.label.as_str())
    }
}

impl Section {
    /// The items of one kind, in order.
    pub fn items_of(&self, kind: ItemKind) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.kind == Some(kind))
    }

    /// The items without a kind (frameworks that do not distinguish kinds).
    pub fn items_without_kind(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.kind.is_none())
    }
}

/// Why a framework file could not be loaded.
#[derive(Debug)]
pub struct LoadError {
    pub file: PathBuf,
    pub problem: LoadProblem,
}

/// The kind of fault in a framework file.
#[derive(Debug)]
pub enum LoadProblem {
    Read(std::io::Error),
    Parse(String),
    Invalid(Vec<FrameworkFault>),
    DuplicateCode(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.problem {
            LoadProblem::Read(e) => write!(f, "framework file {file}: cannot be read: {e}"),
            LoadProblem::Parse(e) => write!(f, "framework file {file}: not valid TOML: {e}"),
            LoadProblem::Invalid(faults) => {
                write!(f, "framework file {file} is invalid:")?;
                for fault in faults {
                    write!(f, "\n  - {fault}")?;
                }
                Ok(())
            }
            LoadProblem::DuplicateCode(code) => write!(
                f,
                "framework file {file}: code {code:?} is already used by another framework file"
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Parses and validates one framework file's text.
pub fn parse(file: &Path, text: &str) -> Result<Framework, LoadError> {
    let fail = |problem| LoadError {
        file: file.to_owned(),
        problem,
    };
    let framework: Framework =
        toml::from_str(text).map_err(|e| fail(LoadProblem::Parse(e.to_string())))?;
    let faults = validate::check(&framework);
    if faults.is_empty() {
        Ok(framework)
    } else {
        Err(fail(LoadProblem::Invalid(faults)))
    }
}

/// Loads and validates one framework file.
pub fn load_file(file: &Path) -> Result<Framework, LoadError> {
    let text = std::fs::read_to_string(file).map_err(|e| LoadError {
        file: file.to_owned(),
        problem: LoadProblem::Read(e),
    })?;
    parse(file, &text)
}

/// Loads every `*.toml` framework in a folder, in file-name order; codes must be unique.
pub fn load_dir(dir: &Path) -> Result<Vec<Framework>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError {
        file: dir.to_owned(),
        problem: LoadProblem::Read(e),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut frameworks = Vec::with_capacity(files.len());
    for file in files {
        let framework = load_file(&file)?;
        if seen.insert(framework.code.clone(), file.clone()).is_some() {
            return Err(LoadError {
                file,
                problem: LoadProblem::DuplicateCode(framework.code),
            });
        }
        frameworks.push(framework);
    }
    Ok(frameworks)
}

/// The frameworks the application serves, looked up by code.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    frameworks: Vec<Framework>,
}

impl Catalogue {
    pub fn new(mut frameworks: Vec<Framework>) -> Self {
        frameworks.sort_by(|a, b| a.code.cmp(&b.code));
        Catalogue { frameworks }
    }

    pub fn all(&self) -> &[Framework] {
        &self.frameworks
    }

    pub fn get(&self, code: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.code == code)
    }
}
