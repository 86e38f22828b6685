//! The Tags pane's state: every tag as a tree by the `/` in its name
//! (`interest/sports` under `interest`), each row with its own member count
//! and, for a row with rows below it, the number of distinct customers
//! carrying it or any tag below it (what `tag:NAME/*` finds).

use std::collections::{BTreeMap, HashSet};

use crate::store::{Result, Store, TagSummary};

/// One row of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRow {
    /// The full name (`interest/sports`); for a group row, the prefix.
    pub path: String,
    /// The last level of the name (`sports`).
    pub label: String,
    /// 0 for a top-level name.
    pub depth: usize,
    /// The tag itself; `None` for a level that is only a group
    /// (`interest` when only `interest/sports` exists).
    pub tag: Option<TagSummary>,
    /// Whether rows sit below this one.
    pub children: bool,
    /// Distinct live customers carrying this tag or any below it.
    pub total: u64,
}

impl TagRow {
    /// The query that finds the row's customers: the tag, or with rows
    /// below it the tag and everything below.
    pub fn query(&self) -> String {
        let value = if self.children {
            format!("{}/*", self.path)
        } else {
            self.path.clone()
        };
        format!("tag:{}", quote_value(&value))
    }
}

/// A query field value, quoted when it holds a space, a parenthesis or a
/// quote.
fn quote_value(v: &str) -> String {
    if v.chars()
        .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\\'))
    {
        let mut out = String::from("\"");
        for c in v.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    } else {
        v.to_owned()
    }
}

/// The tree of `tags`, parents before children, siblings by name.
/// `members` gives a tag's customers (for the rolled-up counts).
pub fn tree(
    tags: Vec<TagSummary>,
    mut members: impl FnMut(&str) -> Result<Vec<crate::model::CustomerId>>,
) -> Result<Vec<TagRow>> {
    let mut nodes: BTreeMap<Vec<String>, Option<TagSummary>> = BTreeMap::new();
    for t in tags {
        let parts: Vec<String> = t.name.split('/').map(str::to_owned).collect();
        for n in 1..parts.len() {
            nodes.entry(parts[..n].to_vec()).or_insert(None);
        }
        nodes.insert(parts, Some(t));
    }
    let keys: Vec<Vec<String>> = nodes.keys().cloned().collect();
    let mut rows = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let below = |k: &Vec<String>| k.len() > key.len() && k.starts_with(key);
        let children = keys.get(i + 1).is_some_and(below);
        let tag = nodes.get(key).cloned().flatten();
        let total = if children {
            let mut ids = HashSet::new();
            for k in keys.iter().skip(i).take_while(|k| *k == key || below(k)) {
                if nodes.get(k).is_some_and(Option::is_some) {
                    ids.extend(members(&k.join("/"))?);
                }
            }
            ids.len() as u64
        } else {
            tag.as_ref().map_or(0, |t| t.count)
        };
        rows.push(TagRow {
            path: key.join("/"),
            label: key.last().cloned().unwrap_or_default(),
            depth: key.len() - 1,
            tag,
            children,
            total,
        });
    }
    Ok(rows)
}

/// The pane's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagsView {
    pub rows: Vec<TagRow>,
    pub cursor: usize,
    pub offset: usize,
    /// The tag `d` asks about, and how many customers would lose it.
    pub confirm: Option<(String, u64)>,
    /// The app's change counter when read (read again when it moves).
    pub data: u64,
}

impl TagsView {
    /// Reads every tag from the store, keeping the cursor where it was.
    pub fn load(store: &Store, data: u64, old: Option<&TagsView>) -> Result<TagsView> {
        let rows = tree(store.tags()?, |t| store.find_tag(t))?;
        let mut view = TagsView {
            rows,
            data,
            ..TagsView::default()
        };
        if let Some(old) = old {
            let at = old.current().map(|r| r.path.as_str());
            view.cursor = at
                .and_then(|p| view.rows.iter().position(|r| r.path == p))
                .unwrap_or(old.cursor.min(view.rows.len().saturating_sub(1)));
            view.offset = old.offset;
        }
        Ok(view)
    }

    pub fn current(&self) -> Option<&TagRow> {
        self.rows.get(self.cursor)
    }

    /// Puts the cursor on the row of `path`, if there is one, with `page`
    /// rows on screen.
    pub fn select(&mut self, path: &str, page: usize) {
        if let Some(i) = self.rows.iter().position(|r| r.path == path) {
            self.cursor = i;
            self.move_by(0, page);
        }
    }

    /// Moves the cursor by `delta` rows with `page` rows on screen.
    pub fn move_by(&mut self, delta: isize, page: usize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last.max(0)) as usize;
        let page = page.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CustomerId;

    fn t(name: &str, count: u64) -> TagSummary {
        TagSummary {
            name: name.to_owned(),
            count,
            info: None,
        }
    }

    #[test]
    fn tree_orders_levels_and_rolls_up_distinct_counts() {
        let tags = vec![
            t("interest b", 1),
            t("interest/sports", 2),
            t("interest/travel", 2),
            t("region/cn/sh", 1),
            t("vip", 3),
        ];
        let rows = tree(tags, |name| {
            Ok(match name {
                "interest/sports" => vec![CustomerId(1), CustomerId(2)],
                "interest/travel" => vec![CustomerId(2), CustomerId(3)],
                "region/cn/sh" => vec![CustomerId(4)],
                _ => vec![],
            })
        })
        .unwrap();
        let shown: Vec<(&str, usize, u64, bool)> = rows
            .iter()
            .map(|r| (r.path.as_str(), r.depth, r.total, r.tag.is_some()))
            .collect();
        assert_eq!(
            shown,
            [
                ("interest", 0, 3, false),
                ("interest/sports", 1, 2, true),
                ("interest/travel", 1, 2, true),
                ("interest b", 0, 1, true),
                ("region", 0, 1, false),
                ("region/cn", 1, 1, false),
                ("region/cn/sh", 2, 1, true),
                ("vip", 0, 3, true),
            ]
        );
        assert_eq!(rows[0].query(), "tag:interest/*");
        assert_eq!(rows[3].query(), "tag:\"interest b\"");
        assert_eq!(rows[7].query(), "tag:vip");
    }
}
