//! The one access policy. Every handler asks it, with the signed-in person, the action and the
//! object; nothing else decides who may do what.

use uuid::Uuid;

use super::{Principal, Role};

/// What someone wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The administration pages: regions, councils, users, cycles, the outbox.
    Administer,
    /// Read a council's part of the audit trail.
    ViewAudit,
    /// See a council's people and invite colleagues.
    ManagePeople,
    /// Invite someone with this role to this council.
    Invite(Role),
    /// See a council's pages.
    ViewOrganisation,
    /// See a region's councils.
    ViewRegion,
    /// Start a council's assessment for a cycle.
    StartAssessment,
    /// See an assessment's pages.
    ViewAssessment,
    /// Change one benchmark (by number) of a draft assessment: statuses and evidence, its
    /// attachments and its actions.
    EditBenchmark(i32),
    /// Record a benchmark's criteria met, RAG, proposed score, justification and comments.
    ScoreBenchmark(i32),
    /// Change what an action says (on the benchmark given, or on none): description, owner,
    /// target, benchmark or question, status and RAG.
    EditAction(Option<i32>),
    /// Delete an action added by mistake (while the assessment is a draft).
    DeleteAction,
    /// Submit a draft assessment.
    SubmitAssessment,
    /// Review a submitted self-assessment: start the review, agree scores, write the letter,
    /// return it to the council. Never a Channel statement: see `CheckStatement`.
    Review,
    /// Check a submitted Channel statement: accept it, or return it to the council.
    CheckStatement,
    /// Answer the adviser's evidence request on a benchmark (by number).
    AnswerRequest(i32),
    /// Replace a draft's answers, results and actions with those of a workbook.
    ImportAssessment,
    /// Add a progress note to an action, or change its status.
    UpdateAction,
    /// See the national picture: every region's agreed scores.
    ViewNational,
    /// Ask the council's signatory to sign a Channel statement.
    RequestSignOff,
    /// Sign a Channel statement's declaration.
    SignOff,
    /// See every council's Channel statements: the national grid.
    ViewChannel,
}

/// What they want to do it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The service as a whole.
    Service,
    /// A council, with its region (advisers' scope).
    Organisation {
        id: Uuid,
        region_id: Uuid,
    },
    Region(Uuid),
    /// An assessment: its council, that council's region, whether it is still a draft,
    /// whether it is with the adviser (submitted or in review), whether it is published (or,
    /// for a Channel statement, accepted), and whether it is a Channel statement.
    Assessment {
        organisation_id: Uuid,
        region_id: Uuid,
        draft: bool,
        in_review: bool,
        published: bool,
        channel: bool,
    },
    /// An action of a council's plan, and the person who owns it (if a user does).
    PlanAction {
        organisation_id: Uuid,
        region_id: Uuid,
        owner: Option<Uuid>,
    },
}

/// Whether `who` may do `action` to `object`.
pub fn allows(who: &Principal, action: Action, object: Object) -> bool {
    // A council's own answers are its own to give: nobody else edits or submits them.
    match (action, object) {
        // A Channel statement is checked by the Channel team, never through the adviser's
        // review of a self-assessment (scores, letter, recommendations), by anyone.
        (Action::Review, Object::Assessment { channel: true, .. }) => return false,
        (Action::CheckStatement, Object::Assessment { channel, .. }) => {
            return channel && (who.is_channel_team() || who.is_admin());
        }
        (
            Action::EditBenchmark(n),
            Object::Assessment {
                organisation_id,
                draft,
                channel,
                ..
            },
        ) => {
            // A contributor's benchmarks are the self-assessment's: the Channel statement is
            // the lead's to answer.
            return draft
                && (who.has_role_in(Role::Lead, organisation_id)
                    || (!channel
                        && who.memberships.iter().any(|m| {
                            m.role == Role::Contributor
                                && m.organisation_id == Some(organisation_id)
                                && m.sections.contains(&n)
                        })));
        }
        // A Channel statement has ratings, not scores.
        (
            Action::ScoreBenchmark(_),
            Object::Assessment {
                organisation_id,
                draft,
                channel,
                ..
            },
        ) => {
            return !channel && draft && who.has_role_in(Role::Lead, organisation_id);
        }
        (
            Action::DeleteAction,
            Object::Assessment {
                organisation_id,
                draft,
                ..
            },
        ) => {
            return draft && who.has_role_in(Role::Lead, organisation_id);
        }
        // The plan lives on after submission: the lead keeps it (giving the adviser's
        // recommendations an owner), except while the adviser has it; a contributor changes
        // their benchmarks' actions while the assessment is a draft.
        (
            Action::EditAction(n),
            Object::Assessment {
                organisation_id,
                draft,
                in_review,
                channel,
                ..
            },
        ) => {
            return (!in_review && who.has_role_in(Role::Lead, organisation_id))
                || (draft
                    && !channel
                    && n.is_some_and(|n| {
                        who.memberships.iter().any(|m| {
                            m.role == Role::Contributor
                                && m.organisation_id == Some(organisation_id)
                                && m.sections.contains(&n)
                        })
                    }));
        }
        (
            Action::SubmitAssessment,
            Object::Assessment {
                organisation_id,
                draft,
                ..
            },
        ) => {
            return draft && who.has_role_in(Role::Lead, organisation_id);
        }
        (
            Action::AnswerRequest(n),
            Object::Assessment {
                organisation_id, ..
            },
        ) => {
            return who.has_role_in(Role::Lead, organisation_id)
                || who.memberships.iter().any(|m| {
                    m.role == Role::Contributor
                        && m.organisation_id == Some(organisation_id)
                        && m.sections.contains(&n)
                });
        }
        (
            Action::RequestSignOff,
            Object::Assessment {
                organisation_id,
                draft,
                channel,
                ..
            },
        ) => {
            return channel && draft && who.has_role_in(Role::Lead, organisation_id);
        }
        // Only the council's own signatory signs: not an administrator, not the lead.
        (
            Action::SignOff,
            Object::Assessment {
                organisation_id,
                draft,
                channel,
                ..
            },
        ) => {
            return channel && draft && who.has_role_in(Role::Signatory, organisation_id);
        }
        (Action::StartAssessment, Object::Organisation { id, .. }) => {
            return who.has_role_in(Role::Lead, id);
        }
        (
            Action::ImportAssessment,
            Object::Assessment {
                organisation_id,
                draft,
                ..
            },
        ) => {
            return draft && who.has_role_in(Role::Lead, organisation_id);
        }
        // Progress is reported by the council: the action's owner, or its Prevent lead.
        (
            Action::UpdateAction,
            Object::PlanAction {
                organisation_id,
                owner,
                ..
            },
        ) => {
            return (owner == Some(who.user_id) && who.belongs_to(organisation_id))
                || who.has_role_in(Role::Lead, organisation_id);
        }
        _ => {}
    }
    if who.is_admin() {
        return true;
    }
    match (action, object) {
        // A board member reads a council's Channel statement once it is accepted; the region's
        // adviser reads it (beside benchmark 5) at any time.
        (
            Action::ViewAssessment,
            Object::Assessment {
                organisation_id,
                region_id,
                published,
                channel: true,
                ..
            },
        ) => {
            who.memberships.iter().any(|m| {
                m.organisation_id == Some(organisation_id) && (m.role != Role::Board || published)
            }) || who.advises(region_id)
                || who.is_channel_team()
        }
        (
            Action::ViewAssessment,
            Object::Assessment {
                organisation_id,
                region_id,
                ..
            },
        ) => who.belongs_to(organisation_id) || who.advises(region_id),
        (Action::ViewAudit | Action::ManagePeople, Object::Organisation { id, .. }) => {
            who.has_role_in(Role::Lead, id)
        }
        (Action::Invite(role), Object::Organisation { id, .. }) => {
            role.is_council_role() && who.has_role_in(Role::Lead, id)
        }
        (Action::ViewOrganisation, Object::Organisation { id, region_id }) => {
            who.belongs_to(id) || who.advises(region_id)
        }
        (Action::ViewRegion, Object::Region(region_id)) => who.advises(region_id),
        (
            Action::Review,
            Object::Assessment {
                region_id,
                channel: false,
                ..
            },
        ) => who.advises(region_id),
        (Action::ViewChannel, Object::Service) => who.is_channel_team(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Membership;

    fn person(memberships: Vec<Membership>) -> Principal {
        Principal {
            user_id: Uuid::new_v4(),
            email: "someone@example.org".into(),
            display_name: "Someone".into(),
            memberships,
            session_hash: vec![],
            unread: 0,
        }
    }

    fn membership(role: Role, organisation: Option<Uuid>, region: Option<Uuid>) -> Membership {
        Membership {
            id: Uuid::new_v4(),
            role,
            organisation_id: organisation,
            organisation_slug: None,
            organisation_name: None,
            region_id: region,
            region_slug: None,
            region_name: None,
            sections: vec![],
        }
    }

    #[test]
    fn a_lead_manages_their_own_council_and_no_other() {
        let (mine, theirs, region) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let lead = person(vec![membership(Role::Lead, Some(mine), Some(region))]);
        let own = Object::Organisation {
            id: mine,
            region_id: region,
        };
        let other = Object::Organisation {
            id: theirs,
            region_id: region,
        };

        assert!(allows(&lead, Action::ManagePeople, own));
        assert!(allows(&lead, Action::Invite(Role::Contributor), own));
        assert!(!allows(&lead, Action::Invite(Role::Adviser), own));
        assert!(!allows(&lead, Action::Invite(Role::Admin), own));
        assert!(!allows(&lead, Action::ManagePeople, other));
        assert!(!allows(&lead, Action::ViewOrganisation, other));
        assert!(!allows(&lead, Action::Administer, Object::Service));
    }

    #[test]
    fn an_adviser_sees_the_councils_of_their_region_only() {
        let (north, south) = (Uuid::new_v4(), Uuid::new_v4());
        let adviser = person(vec![membership(Role::Adviser, None, Some(north))]);

        assert!(allows(&adviser, Action::ViewRegion, Object::Region(north)));
        assert!(!allows(&adviser, Action::ViewRegion, Object::Region(south)));
        let council = Uuid::new_v4();
        assert!(allows(
            &adviser,
            Action::ViewOrganisation,
            Object::Organisation {
                id: council,
                region_id: north
            }
        ));
        assert!(!allows(
            &adviser,
            Action::ViewOrganisation,
            Object::Organisation {
                id: council,
                region_id: south
            }
        ));
        assert!(!allows(
            &adviser,
            Action::ManagePeople,
            Object::Organisation {
                id: council,
                region_id: north
            }
        ));
        let theirs = Object::Assessment {
            organisation_id: council,
            region_id: north,
            draft: false,
            in_review: true,
            published: false,
            channel: false,
        };
        let elsewhere = Object::Assessment {
            organisation_id: council,
            region_id: south,
            draft: false,
            in_review: true,
            published: false,
            channel: false,
        };
        assert!(allows(&adviser, Action::Review, theirs));
        assert!(!allows(&adviser, Action::Review, elsewhere));
        assert!(!allows(&adviser, Action::EditBenchmark(1), theirs));
    }

    #[test]
    fn board_members_and_contributors_do_not_manage_people() {
        let council = Uuid::new_v4();
        let region = Uuid::new_v4();
        let object = Object::Organisation {
            id: council,
            region_id: region,
        };
        for role in [Role::Board, Role::Contributor, Role::Owner] {
            let who = person(vec![membership(role, Some(council), Some(region))]);
            assert!(allows(&who, Action::ViewOrganisation, object), "{role:?}");
            assert!(!allows(&who, Action::ManagePeople, object), "{role:?}");
            assert!(!allows(&who, Action::ViewAudit, object), "{role:?}");
        }
    }

    #[test]
    fn contributors_edit_only_their_benchmarks_and_only_while_it_is_a_draft() {
        let (council, region) = (Uuid::new_v4(), Uuid::new_v4());
        let mut m = membership(Role::Contributor, Some(council), Some(region));
        m.sections = vec![7];
        let contributor = person(vec![m]);
        let draft = Object::Assessment {
            organisation_id: council,
            region_id: region,
            draft: true,
            in_review: false,
            published: false,
            channel: false,
        };
        let submitted = Object::Assessment {
            organisation_id: council,
            region_id: region,
            draft: false,
            in_review: true,
            published: false,
            channel: false,
        };

        assert!(allows(&contributor, Action::EditBenchmark(7), draft));
        assert!(!allows(&contributor, Action::EditBenchmark(2), draft));
        assert!(!allows(&contributor, Action::EditBenchmark(7), submitted));
        assert!(!allows(&contributor, Action::SubmitAssessment, draft));
        assert!(allows(&contributor, Action::ViewAssessment, draft));
    }

    #[test]
    fn an_administrator_sees_every_assessment_but_does_not_answer_for_a_council() {
        let admin = person(vec![membership(Role::Admin, None, None)]);
        let draft = Object::Assessment {
            organisation_id: Uuid::new_v4(),
            region_id: Uuid::new_v4(),
            draft: true,
            in_review: false,
            published: false,
            channel: false,
        };
        assert!(allows(&admin, Action::ViewAssessment, draft));
        assert!(!allows(&admin, Action::EditBenchmark(1), draft));
        assert!(!allows(&admin, Action::SubmitAssessment, draft));
    }

    #[test]
    fn an_administrator_may_do_everything() {
        let admin = person(vec![membership(Role::Admin, None, None)]);
        assert!(allows(&admin, Action::Administer, Object::Service));
        assert!(allows(
            &admin,
            Action::Invite(Role::Adviser),
            Object::Service
        ));
    }
    #[test]
    fn an_action_is_updated_by_its_owner_or_the_lead_and_nobody_else() {
        let (council, other, region) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let owner = person(vec![membership(Role::Owner, Some(council), None)]);
        let lead = person(vec![membership(Role::Lead, Some(council), None)]);
        let board = person(vec![membership(Role::Board, Some(council), None)]);
        let admin = person(vec![membership(Role::Admin, None, None)]);
        let adviser = person(vec![membership(Role::Adviser, None, Some(region))]);
        let owned = |owner_id| Object::PlanAction {
            organisation_id: council,
            region_id: region,
            owner: Some(owner_id),
        };

        assert!(allows(&owner, Action::UpdateAction, owned(owner.user_id)));
        assert!(!allows(&owner, Action::UpdateAction, owned(lead.user_id)));
        assert!(allows(&lead, Action::UpdateAction, owned(owner.user_id)));
        assert!(!allows(&board, Action::UpdateAction, owned(owner.user_id)));
        assert!(!allows(&admin, Action::UpdateAction, owned(owner.user_id)));
        assert!(!allows(
            &adviser,
            Action::UpdateAction,
            owned(owner.user_id)
        ));
        // An owner who has left the council no longer reports on its actions.
        let moved = person(vec![membership(Role::Owner, Some(other), None)]);
        assert!(!allows(&moved, Action::UpdateAction, owned(moved.user_id)));
    }

    #[test]
    fn only_the_lead_imports_a_workbook_and_only_into_a_draft() {
        let (council, region) = (Uuid::new_v4(), Uuid::new_v4());
        let lead = person(vec![membership(Role::Lead, Some(council), None)]);
        let contributor = person(vec![membership(Role::Contributor, Some(council), None)]);
        let admin = person(vec![membership(Role::Admin, None, None)]);
        let draft = Object::Assessment {
            organisation_id: council,
            region_id: region,
            draft: true,
            in_review: false,
            published: false,
            channel: false,
        };
        let submitted = Object::Assessment {
            organisation_id: council,
            region_id: region,
            draft: false,
            in_review: true,
            published: false,
            channel: false,
        };

        assert!(allows(&lead, Action::ImportAssessment, draft));
        assert!(!allows(&lead, Action::ImportAssessment, submitted));
        assert!(!allows(&contributor, Action::ImportAssessment, draft));
        assert!(!allows(&admin, Action::ImportAssessment, draft));
    }

    #[test]
    fn only_administrators_see_the_national_picture() {
        let region = Uuid::new_v4();
        let admin = person(vec![membership(Role::Admin, None, None)]);
        let adviser = person(vec![membership(Role::Adviser, None, Some(region))]);
        let lead = person(vec![membership(Role::Lead, Some(Uuid::new_v4()), None)]);

        assert!(allows(&admin, Action::ViewNational, Object::Service));
        assert!(!allows(&adviser, Action::ViewNational, Object::Service));
        assert!(!allows(&lead, Action::ViewNational, Object::Service));
    }

    #[test]
    fn the_lead_keeps_the_plan_and_a_contributor_only_their_benchmarks_actions_in_a_draft() {
        let (council, region) = (Uuid::new_v4(), Uuid::new_v4());
        let lead = person(vec![membership(Role::Lead, Some(council), None)]);
        let mut m = membership(Role::Contributor, Some(council), None);
        m.sections = vec![7];
        let contributor = person(vec![m]);
        let board = person(vec![membership(Role::Board, Some(council), None)]);
        let owner = person(vec![membership(Role::Owner, Some(council), None)]);
        let at = |draft, in_review| Object::Assessment {
            organisation_id: council,
            region_id: region,
            draft,
            in_review,
            published: false,
            channel: false,
        };
        let (draft, reviewing, agreed) = (at(true, false), at(false, true), at(false, false));

        assert!(allows(&lead, Action::EditAction(Some(3)), draft));
        assert!(allows(&lead, Action::EditAction(None), agreed));
        assert!(!allows(&lead, Action::EditAction(Some(3)), reviewing));
        assert!(allows(&lead, Action::DeleteAction, draft));
        assert!(!allows(&lead, Action::DeleteAction, agreed));
        assert!(allows(&lead, Action::ScoreBenchmark(3), draft));

        assert!(allows(&contributor, Action::EditAction(Some(7)), draft));
        assert!(!allows(&contributor, Action::EditAction(Some(3)), draft));
        assert!(!allows(&contributor, Action::EditAction(None), draft));
        assert!(!allows(&contributor, Action::EditAction(Some(7)), agreed));
        assert!(!allows(&contributor, Action::DeleteAction, draft));
        assert!(!allows(&contributor, Action::ScoreBenchmark(7), draft));
        assert!(allows(&contributor, Action::EditBenchmark(7), draft));

        for who in [&board, &owner] {
            assert!(!allows(who, Action::EditAction(Some(3)), draft));
            assert!(!allows(who, Action::DeleteAction, draft));
            assert!(!allows(who, Action::ScoreBenchmark(3), draft));
        }
        let admin = person(vec![membership(Role::Admin, None, None)]);
        assert!(!allows(&admin, Action::EditAction(Some(3)), draft));
    }

    #[test]
    fn the_channel_statement_is_the_leads_to_answer_and_boards_read_it_once_accepted() {
        let council = Uuid::new_v4();
        let region = Uuid::new_v4();
        let lead = person(vec![membership(Role::Lead, Some(council), None)]);
        let mut m = membership(Role::Contributor, Some(council), None);
        m.sections = vec![1, 2];
        let contributor = person(vec![m]);
        let board = person(vec![membership(Role::Board, Some(council), None)]);
        let adviser = person(vec![membership(Role::Adviser, None, Some(region))]);
        let statement = |draft: bool, published: bool| Object::Assessment {
            organisation_id: council,
            region_id: region,
            draft,
            in_review: !draft && !published,
            published,
            channel: true,
        };
        let (draft, submitted, accepted) = (
            statement(true, false),
            statement(false, false),
            statement(false, true),
        );
        assert!(allows(&lead, Action::EditBenchmark(1), draft));
        assert!(!allows(&contributor, Action::EditBenchmark(1), draft));
        assert!(
            !allows(&lead, Action::ScoreBenchmark(1), draft),
            "no scores"
        );
        assert!(!allows(&board, Action::ViewAssessment, draft));
        assert!(!allows(&board, Action::ViewAssessment, submitted));
        assert!(allows(&board, Action::ViewAssessment, accepted));
        assert!(allows(&adviser, Action::ViewAssessment, submitted));
        assert!(!allows(&adviser, Action::EditBenchmark(1), draft));
        assert!(
            !allows(&adviser, Action::Review, submitted),
            "the Channel team's, not the adviser's"
        );
    }
}
