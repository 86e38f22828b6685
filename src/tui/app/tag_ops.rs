//! The app's tag changes: the Tags pane's keys (create, rename, merge,
//! delete, describe, colour, rule) and the picker's taggings, each run as
//! one [`TagWrite`]. A write larger than [`App::defer_bulk_above`] runs on
//! the worker while the status bar shows its progress ([`App::tick`]);
//! other changes wait for it. Undo and redo use the same job (they may take
//! back 100,000 taggings). A refusal goes back where it was asked (the
//! picker or the question, with the reason), or to the status bar.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Mode, tags_page};
use crate::search::parse;
use crate::store::{StoreError, TagOutcome, TagSummary};
use crate::tui::action::Action;
use crate::tui::keymap::Section;
use crate::tui::prompt::{Ask, Prompt};
use crate::tui::scope::Scope;
use crate::tui::tag_edit::{self, RuleAsk, TagAsk, TagWrite};
use crate::tui::tag_picker::{PickOutcome, PickTag, TagPicker};
use crate::tui::worker::Job;

/// The spinner's frames, one per tenth of a second.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Where a tag write was asked for: a refusal reopens it with the reason.
pub(super) enum Origin {
    Picker(Box<TagPicker>),
    Prompt(Box<Prompt>),
    /// The Tags pane's delete confirmation: the reason goes to the status bar.
    Confirm,
    /// An undo or redo (it is no tag write: see [`App::apply_undone`]).
    Undo,
}

/// A tag write running on the worker.
pub(super) struct TagJob {
    ticket: u64,
    /// The customers it was asked to touch.
    size: u64,
    origin: Origin,
    started: Instant,
    /// What runs ("tagging 100,000 customers vip…").
    label: String,
    /// The status bar's text: the label, then a spinner and the seconds so
    /// far once [`App::tick`] has run.
    progress: String,
}

/// What Enter on a Tags pane question leads to.
enum Answer {
    Write(TagWrite, u64),
    /// Keep asking, with this reason.
    Refuse(String),
    /// Compute the rule's preview first.
    Preview(String),
    /// A preview is on its way.
    Wait,
}

impl App {
    /// The status bar's line while a tag write runs on the worker.
    pub fn tag_progress(&self) -> Option<&str> {
        self.tag_job.as_ref().map(|j| j.progress.as_str())
    }

    /// Whether a tag write or a rule preview is on the worker.
    pub fn is_tag_busy(&self) -> bool {
        self.tag_job.is_some() || self.rule_ask().is_some_and(|r| r.previewing.is_some())
    }

    /// Moves the progress line's spinner and seconds on to `now`; returns
    /// whether it changed (the screen needs redrawing).
    pub fn tick(&mut self, now: Instant) -> bool {
        let Some(job) = self.tag_job.as_mut() else {
            return false;
        };
        let elapsed = now.saturating_duration_since(job.started);
        let frame = SPINNER[(elapsed.as_millis() / 100) as usize % SPINNER.len()];
        let text = format!("{frame} {} {}s", job.label, elapsed.as_secs());
        if text == job.progress {
            return false;
        }
        job.progress = text;
        true
    }

    /// While a write runs on the worker, a key (`what`) that changes data
    /// waits (so that the next `u` takes back that write); says so and
    /// returns true.
    pub(super) fn waits_for_tag_write(&mut self, action: Action, what: &str) -> bool {
        if self.tag_job.is_none() || !tag_edit::changes_data(action) {
            return false;
        }
        self.status = Some(format!("{what} waits until it is done"));
        true
    }

    fn rule_ask(&self) -> Option<&RuleAsk> {
        match self.prompt.as_ref().map(|p| &p.ask) {
            Some(Ask::Tag(TagAsk::Rule(r))) => Some(r),
            _ => None,
        }
    }

    /// A Tags pane key in the current key map, for messages.
    fn tags_key(&self, action: Action, default: &'static str) -> String {
        self.keymap
            .key_in(action, Some(Section::Tags))
            .unwrap_or(default)
            .to_owned()
    }

    pub(super) fn no_tags(&self) -> String {
        let new = self.tags_key(Action::NewTag, "n");
        let tag = self.keymap.key_for(Action::Tag).unwrap_or("t");
        format!("no tags yet: {new} creates one; {tag} in Customers tags customers")
    }

    /// The tag under the Tags pane's cursor; `None`, with the reason in
    /// the status bar, on a level that is no tag or when there are none.
    fn current_tag(&mut self, verb: &str) -> Option<TagSummary> {
        let Some(row) = self.tags.as_ref().and_then(|t| t.current()).cloned() else {
            self.status = Some(self.no_tags());
            return None;
        };
        if row.tag.is_none() {
            self.status = Some(format!(
                "{} is only a level: {verb} the tags below it",
                row.path
            ));
        }
        row.tag
    }

    fn ask(&mut self, ask: TagAsk, input: impl Into<String>) {
        self.prompt = Some(Prompt::new(Ask::Tag(ask), input));
        self.mode = Mode::Prompt;
    }

    /// `n`: asks for the name of a new tag.
    pub(super) fn ask_new_tag(&mut self) {
        self.ask(TagAsk::New, "");
    }

    /// `R`: asks for the tag's new name (its name typed already).
    pub(super) fn ask_rename_tag(&mut self) {
        if let Some(t) = self.current_tag("rename") {
            let from = t.name.clone();
            self.ask(
                TagAsk::Rename {
                    from,
                    count: t.count,
                },
                t.name,
            );
        }
    }

    /// `c` (`C`): asks for the tag's description (colour), the current one
    /// typed already.
    pub(super) fn ask_tag_look(&mut self, colour: bool) {
        let Some(t) = self.current_tag("describe") else {
            return;
        };
        let info = t.info.as_ref();
        let (ask, now) = if colour {
            let now = info.and_then(|i| i.colour.clone());
            (TagAsk::Colour { tag: t.name }, now)
        } else {
            let now = info.and_then(|i| i.description.clone());
            (TagAsk::Describe { tag: t.name }, now)
        };
        self.ask(ask, now.unwrap_or_default());
    }

    /// `r`: asks for the tag's rule (the current one typed already).
    pub(super) fn ask_tag_rule(&mut self) {
        let Some(t) = self.current_tag("give a rule to") else {
            return;
        };
        let current = t.rule().map(str::to_owned);
        let ask = RuleAsk {
            tag: t.name,
            current: current.clone(),
            count: t.count,
            previewing: None,
            preview: None,
        };
        self.ask(TagAsk::Rule(Box::new(ask)), current.unwrap_or_default());
    }

    /// `m`: the picker of the tag the current one merges into.
    pub(super) fn open_merge_picker(&mut self) {
        let Some(t) = self.current_tag("merge") else {
            return;
        };
        let tags = match self.store.tags() {
            Ok(tags) => tags,
            Err(e) => {
                self.status = Some(format!("merge failed: {e}"));
                return;
            }
        };
        let tags = tags
            .into_iter()
            .map(|s| PickTag {
                rule: s.rule().is_some(),
                name: s.name,
                count: s.count,
            })
            .collect();
        self.tag_picker = Some(TagPicker::merge(t.name, t.count, tags));
        self.mode = Mode::TagPicker;
    }

    /// `d`: asks before deleting the tag under the cursor, saying how many
    /// customers lose it.
    pub(super) fn ask_delete_tag(&mut self) {
        if let Some(t) = self.current_tag("delete") {
            if let Some(v) = self.tags.as_mut() {
                v.confirm = Some((t.name, t.count));
            }
            self.mode = Mode::Confirm;
        }
    }

    /// The answer to "delete tag X?" (or to the Duplicates pane's
    /// questions): `y` deletes, any other key keeps it.
    pub(super) fn on_confirm_key(&mut self, key: KeyEvent) {
        if self.on_duplicates_confirm(key) {
            return;
        }
        self.mode = self.base_mode();
        let Some((name, count)) = self.tags.as_mut().and_then(|t| t.confirm.take()) else {
            return;
        };
        if key.code != KeyCode::Char('y') || key.modifiers.contains(KeyModifiers::CONTROL) {
            self.status = Some(format!("kept tag {name}"));
            return;
        }
        self.run_tag_write(TagWrite::Delete { tag: name }, count, Origin::Confirm);
    }

    /// A key in the tag picker; a pick runs the tagging (or the merge).
    pub(super) fn on_picker_key(&mut self, key: KeyEvent) {
        let Some(picker) = self.tag_picker.as_mut() else {
            self.mode = self.base_mode();
            return;
        };
        let name = match picker.on_key(key) {
            PickOutcome::Continue => return,
            PickOutcome::Cancel => {
                self.tag_picker = None;
                self.mode = self.base_mode();
                return;
            }
            PickOutcome::Pick(name) => name,
        };
        let Some(picker) = self.tag_picker.take() else {
            return;
        };
        self.mode = self.base_mode();
        let n = picker.targets.len() as u64;
        let (write, size) = match &picker.merge_from {
            Some((from, count)) => (
                TagWrite::Merge {
                    from: from.clone(),
                    into: name,
                },
                *count,
            ),
            None if picker.add => (
                TagWrite::Add {
                    tag: name,
                    ids: picker.targets.clone(),
                },
                n,
            ),
            None => (
                TagWrite::Remove {
                    tag: name,
                    ids: picker.targets.clone(),
                },
                n,
            ),
        };
        self.run_tag_write(write, size, Origin::Picker(Box::new(picker)));
    }

    /// Enter on a Tags pane question: runs the change, previews a rule
    /// first, or keeps asking with the reason.
    pub(super) fn submit_tag_prompt(&mut self) {
        let answer = match self.prompt.as_ref() {
            Some(Prompt {
                ask: Ask::Tag(ask),
                input,
                ..
            }) => answer(ask, input.trim()),
            _ => return,
        };
        match answer {
            Answer::Write(write, size) => {
                let Some(prompt) = self.prompt.take() else {
                    return;
                };
                self.mode = self.base_mode();
                self.run_tag_write(write, size, Origin::Prompt(Box::new(prompt)));
            }
            Answer::Refuse(why) => {
                if let Some(p) = self.prompt.as_mut() {
                    p.error = Some(why);
                }
            }
            Answer::Preview(rule) => self.request_rule_preview(rule),
            Answer::Wait => {}
        }
    }

    /// Asks the worker who would gain and lose the asked tag under `rule`.
    fn request_rule_preview(&mut self, rule: String) {
        let ticket = self.next_job();
        let Some(Prompt {
            ask: Ask::Tag(TagAsk::Rule(r)),
            ..
        }) = self.prompt.as_mut()
        else {
            return;
        };
        r.previewing = Some(ticket);
        let tag = r.tag.clone();
        let figures = self
            .segments
            .figures
            .clone()
            .filter(|_| !self.segments.is_stale(self.data));
        self.worker.send(Job::RulePreview {
            ticket,
            tag,
            rule,
            as_of: self.as_of,
            figures,
            settings: self.segment_settings.clone(),
        });
    }

    /// A rule preview from the worker, if the question still waits for it.
    pub(super) fn apply_rule_preview(
        &mut self,
        ticket: u64,
        result: Result<Box<crate::search::rules::RulePreview>, String>,
    ) -> bool {
        let Some(Prompt {
            ask: Ask::Tag(TagAsk::Rule(r)),
            error,
            ..
        }) = self.prompt.as_mut()
        else {
            return false;
        };
        if r.previewing != Some(ticket) {
            return false;
        }
        r.previewing = None;
        match result {
            Ok(p) => r.preview = Some(*p),
            Err(e) => *error = Some(e),
        }
        true
    }

    /// Runs `write` (asked to touch `size` customers) now, or on the
    /// worker when it is larger than [`App::defer_bulk_above`].
    pub(super) fn run_tag_write(&mut self, write: TagWrite, size: u64, origin: Origin) {
        let bulk = self
            .defer_bulk_above
            .is_some_and(|limit| size > limit as u64);
        if !bulk {
            let result = write.run(&self.store);
            self.finish_tag_write(&write, size, origin, result);
            return;
        }
        let ticket = self.next_job();
        let label = write.running(size);
        self.tag_job = Some(TagJob {
            ticket,
            size,
            origin,
            started: Instant::now(),
            progress: label.clone(),
            label,
        });
        self.worker.send(Job::TagWrite {
            ticket,
            write: Box::new(write),
        });
    }

    /// `u` (Ctrl-r) on the worker: the status bar says so until it is done.
    pub(super) fn undo_on_worker(&mut self, undo: bool) {
        let ticket = self.next_job();
        let label = if undo {
            "undoing the last change…"
        } else {
            "redoing the last undone change…"
        };
        self.tag_job = Some(TagJob {
            ticket,
            size: 0,
            origin: Origin::Undo,
            started: Instant::now(),
            progress: label.to_owned(),
            label: label.to_owned(),
        });
        self.worker.send(Job::Undo { ticket, undo });
    }

    /// An undo or redo from the worker.
    pub(super) fn apply_undone(
        &mut self,
        ticket: u64,
        undo: bool,
        result: Result<Option<Box<crate::model::AuditEvent>>, String>,
    ) -> bool {
        if self.tag_job.as_ref().map(|j| j.ticket) != Some(ticket) {
            return false;
        }
        self.tag_job = None;
        self.finish_undo_redo(undo, result.map(|e| e.map(|e| *e)));
        // Outside `update`, which reads the Tags pane again after a key.
        self.sync_tags();
        true
    }

    /// A tag write from the worker.
    pub(super) fn apply_tag_write(
        &mut self,
        ticket: u64,
        write: &TagWrite,
        result: Result<TagOutcome, StoreError>,
    ) -> bool {
        if self.tag_job.as_ref().map(|j| j.ticket) != Some(ticket) {
            return false;
        }
        let Some(job) = self.tag_job.take() else {
            return false;
        };
        self.finish_tag_write(write, job.size, job.origin, result);
        true
    }

    /// After a write: the data follows (index, list, Tags pane, whose
    /// cursor goes to the tag written) and the status bar says what it
    /// did; a refusal goes back where it was asked, with the reason.
    fn finish_tag_write(
        &mut self,
        write: &TagWrite,
        size: u64,
        origin: Origin,
        result: Result<TagOutcome, StoreError>,
    ) {
        match result {
            Ok(out) => {
                if out.seq.is_some() {
                    // A tag write trashes nobody: no record needs patching.
                    self.after_change(&[]);
                }
                if self.scope() == Scope::Tags {
                    self.sync_tags();
                    let page = tags_page(self.page);
                    if let (Some(tag), Some(v)) = (write.result_tag(), self.tags.as_mut()) {
                        v.select(tag, page);
                    }
                }
                self.refresh_visible();
                self.status = Some(write.done(&out, size));
            }
            Err(e) => {
                let rule_key = self.tags_key(Action::TagRule, "r");
                let merge_key = self.tags_key(Action::MergeTag, "m");
                let why = tag_edit::explain(&e, &rule_key, &merge_key);
                // Reopened only over the screen it was asked on.
                let here = self.mode == self.base_mode();
                match origin {
                    Origin::Picker(mut p) if here => {
                        p.error = Some(why);
                        self.tag_picker = Some(*p);
                        self.mode = Mode::TagPicker;
                    }
                    Origin::Prompt(mut p) if here => {
                        p.error = Some(why);
                        self.prompt = Some(*p);
                        self.mode = Mode::Prompt;
                    }
                    _ => self.status = Some(why),
                }
            }
        }
    }
}

/// What Enter on `ask` with `typed` (trimmed) leads to.
fn answer(ask: &TagAsk, typed: &str) -> Answer {
    let owned = typed.to_owned();
    match ask {
        TagAsk::New => Answer::Write(TagWrite::Create { tag: owned }, 0),
        TagAsk::Rename { from, count } => Answer::Write(
            TagWrite::Rename {
                from: from.clone(),
                to: owned,
            },
            *count,
        ),
        TagAsk::Describe { tag } => Answer::Write(
            TagWrite::Describe {
                tag: tag.clone(),
                text: owned,
            },
            0,
        ),
        TagAsk::Colour { tag } => Answer::Write(
            TagWrite::Colour {
                tag: tag.clone(),
                colour: owned,
            },
            0,
        ),
        TagAsk::Rule(r) => {
            if r.previewing.is_some() {
                return Answer::Wait;
            }
            if let Some(p) = r.preview_of(typed) {
                let changes = (p.gained.len() + p.lost.len()) as u64;
                return Answer::Write(TagWrite::SetRule(Box::new(p.clone())), changes);
            }
            if typed.is_empty() {
                return match r.current {
                    Some(_) => Answer::Write(TagWrite::DropRule { tag: r.tag.clone() }, 0),
                    None => Answer::Refuse(
                        "type a query, such as city:上海 spend>1000; esc cancels".to_owned(),
                    ),
                };
            }
            match parse(typed) {
                Ok(_) => Answer::Preview(owned),
                Err(e) => Answer::Refuse(format!("rule: {e}")),
            }
        }
    }
}
