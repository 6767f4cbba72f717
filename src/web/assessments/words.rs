//! What the pages call things, from the framework: "Benchmark 3" and "question 3.1" on the
//! self-assessment, "Key area of control 3" and "statement 3.1" on the Channel statement.

use crate::framework::Framework;

#[derive(Debug, Clone)]
pub(crate) struct Words {
    /// "Prevent duty self-assessment".
    pub name: String,
    /// "Benchmark", "Key area of control".
    pub section: String,
    /// "benchmark", "key area of control".
    pub section_lower: String,
    /// "Question", "Statement".
    pub item: String,
    /// "question", "statement".
    pub item_lower: String,
    /// "Action", "Area for improvement".
    pub action: String,
    /// "action", "area for improvement".
    pub action_lower: String,
    /// "Target", "Timescale for completion".
    pub target: String,
    pub scored: bool,
}

/// "Area for improvement" → "area for improvement" (a leading capital only).
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Words {
    pub(crate) fn of(fw: &Framework) -> Words {
        Words {
            name: fw.assessment_name.clone(),
            section: fw.section_label.clone(),
            section_lower: lower_first(&fw.section_label),
            item: fw.item_label.clone(),
            item_lower: lower_first(&fw.item_label),
            action: fw.action_label.clone(),
            action_lower: lower_first(&fw.action_label),
            target: fw.target_label.clone(),
            scored: fw.scored,
        }
    }

    /// "Actions", "Areas for improvement".
    pub(crate) fn actions(&self) -> String {
        plural(&self.action)
    }

    /// "actions", "areas for improvement".
    pub(crate) fn actions_lower(&self) -> String {
        plural(&self.action_lower)
    }
}

/// "Area for improvement" → "Areas for improvement"; "Action" → "Actions".
fn plural(s: &str) -> String {
    match s.split_once(' ') {
        Some((first, rest)) => format!("{first}s {rest}"),
        None => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals_of_what_actions_are_called() {
        assert_eq!(plural("Action"), "Actions");
        assert_eq!(plural("Area for improvement"), "Areas for improvement");
    }
}
