//! The checks a framework must pass before the application will start with it.

use std::collections::HashSet;
use std::fmt;

use super::{Framework, Level, Section};

/// One fault in a framework, naming the item it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkFault {
    /// Where the fault is: "section 3", "item 3.2", "section 4 level 2", …
    pub location: String,
    pub fault: String,
}

impl fmt::Display for FrameworkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.fault)
    }
}

struct Faults(Vec<FrameworkFault>);

impl Faults {
    fn add(&mut self, location: impl Into<String>, fault: impl Into<String>) {
        self.0.push(FrameworkFault {
            location: location.into(),
            fault: fault.into(),
        });
    }

    fn require_text(&mut self, location: &str, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(location, format!("{field} is empty"));
        }
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn is_snake(s: &str) -> bool {
    !s.is_empty()
        && s.split('_').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Every fault in the framework; empty when it is valid.
pub fn check(fw: &Framework) -> Vec<FrameworkFault> {
    let mut f = Faults(Vec::new());
    let top = "framework";
    if !is_slug(&fw.code) {
        f.add(
            top,
            format!(
                "code {:?} must be lower-case letters and digits joined by hyphens",
                fw.code
            ),
        );
    }
    for (field, value) in [
        ("edition", &fw.edition),
        ("title", &fw.title),
        ("publisher", &fw.publisher),
        ("attribution", &fw.attribution),
        ("source", &fw.source),
        ("section_label", &fw.section_label),
        ("item_label", &fw.item_label),
        ("assessment_name", &fw.assessment_name),
    ] {
        f.require_text(top, field, value);
    }
    if !is_slug(&fw.section_path) {
        f.add(
            top,
            "section_path must be lower-case letters and digits joined by hyphens",
        );
    }
    if let Some(intro) = &fw.introduction {
        f.require_text(top, "introduction", intro);
    }
    if let Some(declaration) = &fw.declaration {
        f.require_text(top, "declaration", declaration);
    }
    if fw.ratings.is_empty() {
        f.add(top, "has no ratings (the answer scale)");
    }
    let mut rating_codes = HashSet::new();
    for rating in &fw.ratings {
        let at = format!("rating {:?}", rating.code);
        if !is_snake(&rating.code) {
            f.add(&at, "code must be snake_case");
        }
        if !rating_codes.insert(rating.code.as_str()) {
            f.add(&at, "duplicate rating code");
        }
        f.require_text(&at, "label", &rating.label);
        if let Some(definition) = &rating.definition {
            f.require_text(&at, "definition", definition);
        }
        if rating.requires.contains(&super::Requirement::Details)
            && rating.requires.contains(&super::Requirement::Reason)
        {
            f.add(
                &at,
                "requires both details and a reason: they are the same box",
            );
        }
    }
    let mut sign_off_codes = HashSet::new();
    for field in &fw.sign_off {
        let at = format!("sign-off field {:?}", field.code);
        if !is_snake(&field.code) {
            f.add(&at, "code must be snake_case");
        }
        if !sign_off_codes.insert(field.code.as_str()) {
            f.add(&at, "duplicate sign-off code");
        }
        f.require_text(&at, "label", &field.label);
    }
    if fw.sections.is_empty() {
        f.add(top, "has no sections");
    }
    let mut item_codes = HashSet::new();
    let mut criterion_ids = HashSet::new();
    for (index, section) in fw.sections.iter().enumerate() {
        let expected = index as u32 + 1;
        let at = format!("section {}", section.number);
        if section.number != expected {
            f.add(
                &at,
                format!("sections must be numbered 1, 2, 3 … in order; expected {expected}"),
            );
        }
        check_section(&mut f, fw, section, &at, &mut item_codes);
        if fw.scored {
            check_levels(&mut f, section, &mut criterion_ids);
        } else if !section.levels.is_empty() {
            f.add(&at, "has levels but the framework is not scored");
        }
        if section.may_be_not_scored && !fw.scored {
            f.add(
                &at,
                "may_be_not_scored is set but the framework is not scored",
            );
        }
    }
    f.0
}

fn check_section(
    f: &mut Faults,
    fw: &Framework,
    section: &Section,
    at: &str,
    item_codes: &mut HashSet<String>,
) {
    f.require_text(at, "title", &section.title);
    for (field, value) in [
        ("standard", &section.standard),
        ("outcome", &section.outcome),
        ("evidence_label", &section.evidence_label),
        ("guidance", &section.guidance),
    ] {
        if let Some(value) = value {
            f.require_text(at, field, value);
        }
    }
    if fw.scored && section.standard.is_none() {
        f.add(at, "a scored framework's section needs a standard");
    }
    if section.items.is_empty() {
        f.add(at, "has no items");
    }
    let any_kind = fw
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .any(|i| i.kind.is_some());
    for (index, item) in section.items.iter().enumerate() {
        let item_at = format!("item {}", item.code);
        if !item_codes.insert(item.code.clone()) {
            f.add(&item_at, "duplicate item code");
        }
        let expected = format!("{}.{}", section.number, index + 1);
        if item.code != expected {
            f.add(
                &item_at,
                format!(
                    "item codes must be numbered under their section in order; expected {expected}"
                ),
            );
        }
        f.require_text(&item_at, "text", &item.text);
        for (p, prompt) in item.prompts.iter().enumerate() {
            f.require_text(&item_at, &format!("prompt {}", p + 1), prompt);
        }
        let mut field_codes = HashSet::new();
        for field in &item.fields {
            if !is_snake(&field.code) || !field_codes.insert(field.code.as_str()) {
                f.add(
                    &item_at,
                    format!("field {:?} needs a unique snake_case code", field.code),
                );
            }
            f.require_text(&item_at, "field label", &field.label);
        }
        if item.fields_notice.is_some() && item.fields.is_empty() {
            f.add(&item_at, "has a fields_notice but no fields");
        }
        if any_kind && item.kind.is_none() {
            f.add(
                &item_at,
                "has no kind, though other items of the framework do",
            );
        }
    }
}

fn check_levels(f: &mut Faults, section: &Section, criterion_ids: &mut HashSet<String>) {
    let at = format!("section {}", section.number);
    if section.levels.len() != 5 {
        f.add(
            &at,
            format!(
                "has {} levels; a scored section needs exactly five (scores 1 to 5)",
                section.levels.len()
            ),
        );
    }
    for (index, level) in section.levels.iter().enumerate() {
        let level_at = format!("section {} level {}", section.number, level.score);
        if usize::from(level.score) != index + 1 {
            f.add(
                &level_at,
                format!(
                    "levels must be scored 1 to 5 in order; expected {}",
                    index + 1
                ),
            );
        }
        f.require_text(&level_at, "descriptor", &level.descriptor);
        check_criteria(f, section.number, level, &level_at, criterion_ids);
    }
}

fn check_criteria(
    f: &mut Faults,
    section: u32,
    level: &Level,
    at: &str,
    ids: &mut HashSet<String>,
) {
    if level.score == 1 && !level.criteria.is_empty() {
        f.add(at, "level 1 is the floor and has no criteria");
    }
    if level.score >= 2 && level.criteria.is_empty() {
        f.add(
            at,
            "has no criteria; levels 2 to 5 are split into checkable criteria",
        );
    }
    let prefix = format!("b{section}.l{}.", level.score);
    for criterion in &level.criteria {
        let c_at = format!("criterion {}", criterion.id);
        match criterion.id.strip_prefix(&prefix) {
            Some(slug) if is_slug(slug) => {}
            _ => f.add(
                &c_at,
                format!("id must be {prefix}<slug> (lower-case words joined by hyphens)"),
            ),
        }
        if !ids.insert(criterion.id.clone()) {
            f.add(&c_at, "duplicate criterion id");
        }
        f.require_text(&c_at, "text", &criterion.text);
    }
}
