//! The core's import-circle check: no module of `upshot-core` imports one that imports it back.
//!
//! Data is meant to flow one way through the core (source → preflight → queue → governor →
//! worker → client → history → events → faces). A circle between modules means neither can be
//! understood, tested or moved without the other, so this test reads the core's source files,
//! collects every `crate::…`, `super::…` and `self::…` path (in `use` lines and inline, including
//! `serialize_with = "crate::…"` strings), resolves each to the module file it names, and fails,
//! naming the circle and the lines that make it, when
//!
//! - the graph of top-level modules (`crate::queue`, `crate::history`, …; a top-level module is
//!   its directory or file) has a circle,
//! - within one module directory, the graph between sibling files has a circle (e.g.
//!   `governor/budget.rs` ↔ `governor/readings.rs`), or
//! - `crate::types`, the bottom layer, imports anything else of the core.
//!
//! What is not a use: comments (doc links name other modules without depending on them), code
//! under `#[cfg(test)]` (a test may build a higher layer to drive a lower one), and a parent
//! `mod.rs` declaring or re-exporting (`pub use`) its children.
//!
//! Circles still being removed are listed in [`KNOWN_CIRCLES`] with who removes them; the test
//! also fails when a listed circle no longer exists, so the list cannot go stale.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Circles that are allowed for now, each as the modules in its loop (any rotation) and the
/// helper of issue 14 who removes it. Top-level circles name modules (`"service"`); circles
/// between sibling files name them by path (`"watch/config"`). Empty since issue 14: a new
/// circle is removed, not listed, unless it is on its way out.
const KNOWN_CIRCLES: &[(&[&str], &str)] = &[];

/// A module path below the crate root, e.g. `["governor", "budget"]`; the root is `[]`.
type ModPath = Vec<String>;

/// One reference from a file to a module path, and the line it is on (for the failure message).
#[derive(Debug, Clone)]
struct Reference {
    target: ModPath,
    line: usize,
}

/// A source file of the core with the module it defines and what it refers to.
#[derive(Debug)]
struct SourceFile {
    /// Relative to `src/`, for messages.
    shown: String,
    module: ModPath,
    /// Whether this file is the `mod.rs` (or `lib.rs`) of its module, i.e. a directory module.
    is_dir_module: bool,
    /// Paths named in `use` items that are not re-exports (`pub use` in a parent is not a use).
    uses: Vec<Reference>,
    /// Paths named by `pub use` items: re-exports.
    reexports: Vec<(ModPath, Reference)>,
    /// Paths named inline (outside `use` items).
    inline: Vec<Reference>,
}

// ---------------------------------------------------------------------------------------------
// Reading source text

/// The code of a file with comments removed, string literals blanked unless they hold a
/// `crate::` path, and `#[cfg(test)]` items removed; newlines are kept so lines still count.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'r' && is_raw_string_start(&chars, i)) {
            let (end, content) = read_string(&chars, i);
            let newlines = content.chars().filter(|&c| c == '\n').count();
            out.push('"');
            if content.starts_with("crate::") {
                out.push_str(&content);
            }
            out.push('"');
            for _ in 0..newlines {
                out.push('\n');
            }
            i = end;
        } else if c == '\'' {
            // A char literal ('{', '\n', '\'') or a lifetime ('a): only the first is skipped.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                out.push_str("' '");
                i = j + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                out.push_str("' '");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    remove_test_items(&out)
}

fn is_raw_string_start(chars: &[char], i: usize) -> bool {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return false;
    }
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// Reads a string literal starting at `i` (`"…"` or `r#"…"#`); returns the index after it and
/// its content.
fn read_string(chars: &[char], i: usize) -> (usize, String) {
    let mut content = String::new();
    if chars[i] == 'r' {
        let mut j = i + 1;
        let mut hashes = 0;
        while chars[j] == '#' {
            hashes += 1;
            j += 1;
        }
        j += 1; // the opening quote
        while j < chars.len() {
            if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                return (j + 1 + hashes, content);
            }
            content.push(chars[j]);
            j += 1;
        }
        return (j, content);
    }
    let mut j = i + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => {
                if let Some(&escaped) = chars.get(j + 1) {
                    content.push(escaped);
                }
                j += 2;
            }
            '"' => return (j + 1, content),
            other => {
                content.push(other);
                j += 1;
            }
        }
    }
    (j, content)
}

/// Removes every item under `#[cfg(test)]` (a `mod tests { … }`, a test-only `use` or `fn`),
/// keeping its newlines.
fn remove_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0usize;
        let mut end = item.len();
        let mut in_attr = 0usize;
        for (k, ch) in item.char_indices() {
            match ch {
                '[' => in_attr += 1,
                ']' => in_attr = in_attr.saturating_sub(1),
                '{' if in_attr == 0 => depth += 1,
                '}' if in_attr == 0 => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if in_attr == 0 && depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        out.extend(item[..end].chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `use` items of some code: (is it `pub`, its text from after `use` to before `;`, the
/// line it starts on, and the byte range of the whole item so inline scanning can skip it).
fn use_items(code: &str) -> Vec<(bool, String, usize, std::ops::Range<usize>)> {
    let mut items = Vec::new();
    let bytes = code.as_bytes();
    let mut search = 0;
    while let Some(found) = code[search..].find("use ") {
        let at = search + found;
        search = at + 4;
        if at > 0 && is_ident_char(bytes[at - 1] as char) {
            continue;
        }
        // Is it preceded by `pub` or `pub(crate)` / `pub(super)` / `pub(in …)`?
        let before = code[..at].trim_end();
        let is_pub = before.ends_with("pub")
            || (before.ends_with(')') && {
                let open = before.rfind('(').unwrap_or(0);
                before[..open].trim_end().ends_with("pub")
            });
        let Some(semi) = code[at..].find(';') else {
            break;
        };
        let text = code[at + 4..at + semi].to_string();
        let line = code[..at].matches('\n').count() + 1;
        items.push((is_pub, text, line, at..at + semi + 1));
        search = at + semi + 1;
    }
    items
}

/// Expands a `use` tree (`crate::{a::b, c::{d, e}}`) into its paths, each as segments.
fn expand_use_tree(text: &str) -> Vec<Vec<String>> {
    // Drop renames (`Foo as Bar`) and whitespace.
    let mut joined = String::new();
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        if word == "as" {
            if let Some(renamed) = words.next() {
                joined.push_str(renamed.trim_start_matches(is_ident_char));
            }
        } else {
            joined.push_str(word);
        }
    }
    let mut out = Vec::new();
    expand_into(&joined, Vec::new(), &mut out);
    out
}

fn expand_into(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    // Split top-level commas when the text is a `{…}` group.
    let text = text.trim_start_matches("::");
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        for part in split_top_level(inner) {
            if !part.is_empty() {
                expand_into(part, prefix.clone(), out);
            }
        }
        return;
    }
    let mut segments = prefix;
    let mut rest = text;
    loop {
        if rest.starts_with('{') {
            expand_into(rest, segments, out);
            return;
        }
        let end = rest.find("::").unwrap_or(rest.len());
        let segment = &rest[..end];
        let segment = match segment.find(|c: char| !is_ident_char(c)) {
            Some(stop) => &segment[..stop],
            None => segment,
        };
        // `self` in a group (`b::{self, X}`) names the group's module itself.
        if !segment.is_empty() && (segment != "self" || segments.is_empty()) {
            segments.push(segment.to_string());
        }
        if end == rest.len() {
            break;
        }
        rest = &rest[end + 2..];
        if rest == "*" {
            break;
        }
    }
    out.push(segments);
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (k, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Inline paths starting with `crate::`, `super::` or `self::` (outside `use` items).
fn inline_paths(code: &str, skip: &[std::ops::Range<usize>]) -> Vec<(Vec<String>, usize)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for start_word in ["crate::", "super::", "self::"] {
        let mut search = 0;
        while let Some(hit) = code[search..].find(start_word) {
            let at = search + hit;
            search = at + start_word.len();
            if at > 0 && is_ident_char(bytes[at - 1] as char) {
                continue;
            }
            // `super::super::x` is read once, from its first `super`.
            if at >= 7 && &code[at - 7..at] == "super::" {
                continue;
            }
            if skip.iter().any(|range| range.contains(&at)) {
                continue;
            }
            let mut end = at;
            let mut segments = Vec::new();
            loop {
                let seg_end = code[end..]
                    .find(|c: char| !is_ident_char(c))
                    .map_or(code.len(), |k| end + k);
                if seg_end == end {
                    break;
                }
                segments.push(code[end..seg_end].to_string());
                if code[seg_end..].starts_with("::") {
                    end = seg_end + 2;
                } else {
                    break;
                }
            }
            let line = code[..at].matches('\n').count() + 1;
            found.push((segments, line));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Resolving paths to modules

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn module_of(relative: &Path) -> (ModPath, bool) {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().expect("file name");
    let stem = file.trim_end_matches(".rs").to_string();
    if stem == "mod" || (parts.is_empty() && stem == "lib") {
        (parts, true)
    } else {
        parts.push(stem);
        (parts, false)
    }
}

/// Turns a path as written in `module` (`super::x`, `self::y`, `crate::z`, or a bare child
/// name in a directory module) into segments from the crate root; `None` if it is not a path
/// into this crate.
fn absolute(
    segments: &[String],
    module: &ModPath,
    is_dir_module: bool,
    modules: &BTreeSet<ModPath>,
) -> Option<Vec<String>> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" => {
            let mut base = module.clone();
            base.extend_from_slice(&segments[1..]);
            Some(base)
        }
        "super" => {
            let mut base = module.clone();
            let mut rest = segments;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            base.extend_from_slice(rest);
            Some(base)
        }
        _ if is_dir_module => {
            // Edition-2018 paths: a bare name in a `mod.rs` may be one of its children.
            let mut child = module.clone();
            child.push(first.clone());
            if modules.contains(&child) {
                let mut base = module.clone();
                base.extend_from_slice(segments);
                Some(base)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The longest prefix of `path` that is a module file.
fn deepest_module(path: &[String], modules: &BTreeSet<ModPath>) -> ModPath {
    for len in (0..=path.len()).rev() {
        let prefix = path[..len].to_vec();
        if modules.contains(&prefix) {
            return prefix;
        }
    }
    Vec::new()
}

fn parse_file(
    shown: String,
    module: ModPath,
    is_dir_module: bool,
    text: &str,
    modules: &BTreeSet<ModPath>,
) -> SourceFile {
    let code = code_only(text);
    let mut file = SourceFile {
        shown,
        module: module.clone(),
        is_dir_module,
        uses: Vec::new(),
        reexports: Vec::new(),
        inline: Vec::new(),
    };
    let items = use_items(&code);
    let ranges: Vec<_> = items.iter().map(|item| item.3.clone()).collect();
    for (is_pub, tree, line, _) in &items {
        for path in expand_use_tree(tree) {
            let Some(target) = absolute(&path, &module, is_dir_module, modules) else {
                continue;
            };
            let reference = Reference {
                target: target.clone(),
                line: *line,
            };
            if *is_pub {
                let name = path.last().cloned().unwrap_or_default();
                let mut exported = module.clone();
                exported.push(name);
                file.reexports.push((exported, reference));
            } else {
                file.uses.push(reference);
            }
        }
    }
    for (path, line) in inline_paths(&code, &ranges) {
        if let Some(target) = absolute(&path, &module, is_dir_module, modules) {
            file.inline.push(Reference { target, line });
        }
    }
    file
}

/// Follows re-exports: `crate::LinkFormat` is `crate::link_format::LinkFormat`,
/// `super::WaitReason` in a governor file is `governor::types::WaitReason`.
fn through_reexports(path: &[String], exports: &BTreeMap<ModPath, ModPath>) -> Vec<String> {
    let mut current = path.to_vec();
    for _ in 0..8 {
        let mut replaced = false;
        for len in (1..=current.len()).rev() {
            if let Some(target) = exports.get(&current[..len].to_vec())
                && target.as_slice() != &current[..len]
            {
                let mut next = target.clone();
                next.extend_from_slice(&current[len..]);
                current = next;
                replaced = true;
                break;
            }
        }
        if !replaced {
            break;
        }
    }
    current
}

/// The core read from disk: each file's module and the modules it really uses.
struct Core {
    files: Vec<SourceFile>,
    modules: BTreeSet<ModPath>,
    exports: BTreeMap<ModPath, ModPath>,
}

impl Core {
    fn read(src: &Path) -> Core {
        let paths = rust_files(src);
        let mut modules = BTreeSet::new();
        let mut located = Vec::new();
        for path in &paths {
            let relative = path.strip_prefix(src).expect("under src").to_path_buf();
            let (module, is_dir) = module_of(&relative);
            modules.insert(module.clone());
            located.push((path.clone(), relative, module, is_dir));
        }
        let mut files = Vec::new();
        let mut exports = BTreeMap::new();
        for (path, relative, module, is_dir) in located {
            let text = std::fs::read_to_string(&path).expect("read source file");
            let shown = relative.to_string_lossy().replace('\\', "/");
            let file = parse_file(shown, module, is_dir, &text, &modules);
            for (exported, reference) in &file.reexports {
                exports.insert(exported.clone(), reference.target.clone());
            }
            files.push(file);
        }
        Core {
            files,
            modules,
            exports,
        }
    }

    /// Every use edge as (from file's module, to the module it names, evidence line), with
    /// re-exports followed. A parent's `pub use` of a child is a re-export, not a use; but a
    /// `pub use` of something outside the parent is a use of it.
    fn edges(&self) -> Vec<(ModPath, ModPath, String)> {
        let mut edges = Vec::new();
        for file in &self.files {
            let mut references: Vec<&Reference> = file.uses.iter().chain(&file.inline).collect();
            for (_, reference) in &file.reexports {
                let into_own_children =
                    reference.target.starts_with(&file.module) && file.is_dir_module;
                if !into_own_children {
                    references.push(reference);
                }
            }
            for reference in references {
                let resolved = through_reexports(&reference.target, &self.exports);
                let target = deepest_module(&resolved, &self.modules);
                edges.push((
                    file.module.clone(),
                    target,
                    format!("{}:{}", file.shown, reference.line),
                ));
            }
        }
        edges
    }
}

// ---------------------------------------------------------------------------------------------
// Graphs and circles

/// A directed graph between named nodes, with one example line per edge.
#[derive(Debug, Default)]
struct Graph {
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    fn add(&mut self, from: &str, to: &str, evidence: &str) {
        if from == to {
            return;
        }
        self.edges
            .entry(from.to_string())
            .or_default()
            .entry(to.to_string())
            .or_insert_with(|| evidence.to_string());
        self.edges.entry(to.to_string()).or_default();
    }

    /// Every elementary circle, each rotated to start at its smallest node.
    fn circles(&self) -> BTreeSet<Vec<String>> {
        let mut found = BTreeSet::new();
        let nodes: Vec<&String> = self.edges.keys().collect();
        for start in &nodes {
            // Circles whose smallest node is `start`: search only through larger nodes.
            let mut path = vec![(*start).clone()];
            self.search(start, start, &mut path, &mut found);
        }
        found
    }

    fn search(
        &self,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        assert!(found.len() < 10_000, "too many circles to list");
        for next in self.edges.get(at).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                found.insert(path.clone());
            } else if next.as_str() > start && !path.contains(next) {
                path.push(next.clone());
                self.search(start, next, path, found);
                path.pop();
            }
        }
    }

    fn describe(&self, circle: &[String]) -> String {
        let mut text = circle.join(" -> ");
        let _ = write!(text, " -> {}", circle[0]);
        for (k, from) in circle.iter().enumerate() {
            let to = &circle[(k + 1) % circle.len()];
            let evidence = &self.edges[from][to];
            let _ = write!(text, "\n    {from} -> {to} at {evidence}");
        }
        text
    }
}

fn rotate_to_smallest(circle: &[&str]) -> Vec<String> {
    let smallest = (0..circle.len()).min_by_key(|&k| circle[k]).unwrap_or(0);
    circle[smallest..]
        .iter()
        .chain(&circle[..smallest])
        .map(|s| s.to_string())
        .collect()
}

/// The graph of top-level modules (`queue`, `history`, …).
fn top_level_graph(core: &Core) -> Graph {
    let mut graph = Graph::default();
    for (from, to, evidence) in core.edges() {
        if let (Some(a), Some(b)) = (from.first(), to.first()) {
            graph.add(a, b, &evidence);
        }
    }
    graph
}

/// The graphs between sibling files, one per module directory: a file deeper down counts as
/// its ancestor that is a child of the directory; the directory's own `mod.rs` is a node too
/// (named after the directory), so a child using its parent's items counts, but the parent's
/// re-exports do not.
fn sibling_graph(core: &Core) -> Graph {
    let mut graph = Graph::default();
    let directories: BTreeSet<ModPath> = core
        .files
        .iter()
        .filter(|f| f.is_dir_module && !f.module.is_empty())
        .map(|f| f.module.clone())
        .collect();
    let node = |dir: &ModPath, module: &ModPath| -> Option<String> {
        if !module.starts_with(dir) {
            return None;
        }
        let depth = (dir.len() + 1).min(module.len());
        Some(module[..depth].join("/"))
    };
    for (from, to, evidence) in core.edges() {
        for dir in &directories {
            if let (Some(a), Some(b)) = (node(dir, &from), node(dir, &to)) {
                graph.add(&a, &b, &evidence);
            }
        }
    }
    graph
}

fn check(graph: &Graph, known: &[(&[&str], &str)], kind: &str) -> Vec<String> {
    let found = graph.circles();
    let known: BTreeMap<Vec<String>, &str> = known
        .iter()
        .map(|(circle, who)| (rotate_to_smallest(circle), *who))
        .collect();
    let mut problems = Vec::new();
    for circle in &found {
        if !known.contains_key(circle) {
            problems.push(format!("{kind} import circle: {}", graph.describe(circle)));
        }
    }
    for (circle, who) in &known {
        let is_this_kind = circle.iter().any(|n| n.contains('/')) == (kind == "sibling");
        if is_this_kind && !found.contains(circle) {
            problems.push(format!(
                "KNOWN_CIRCLES lists {} ({who}) but it no longer exists: remove it from the list",
                circle.join(" -> ")
            ));
        }
    }
    problems
}

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_core_has_no_import_circles_but_the_known_ones() {
    let core = Core::read(&core_src());
    let mut problems = check(&top_level_graph(&core), KNOWN_CIRCLES, "top-level");
    problems.extend(check(&sibling_graph(&core), KNOWN_CIRCLES, "sibling"));
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}

#[test]
fn the_types_layer_imports_nothing_of_the_core() {
    let core = Core::read(&core_src());
    let types = ["types".to_string()];
    assert!(
        core.modules.contains(types.as_slice()),
        "crate::types, the bottom layer, is missing"
    );
    let outside: Vec<String> = core
        .edges()
        .into_iter()
        .filter(|(from, to, _)| from.starts_with(&types) && !to.starts_with(&types))
        .map(|(_, to, evidence)| format!("crate::{} at {evidence}", to.join("::")))
        .collect();
    assert!(
        outside.is_empty(),
        "crate::types must import nothing else of the core, but uses:\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_checker_finds_a_circle_in_a_small_fake_core() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    let write = |relative: &str, text: &str| {
        let path = src.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
        std::fs::write(path, text).expect("write fake source");
    };
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\npub use c::Thing;\n",
    );
    // a -> b (use line), b -> a (inline path): a circle.
    write("a.rs", "use crate::b::{self, Other};\n");
    write(
        "b.rs",
        "// crate::d in a comment is not a use\nfn f() { crate::a::g(); }\n",
    );
    // c -> e through a string attribute; e -> c only under #[cfg(test)]: no circle.
    write(
        "c.rs",
        "#[serde(serialize_with = \"crate::e::lossy\")]\npub struct Thing;\n",
    );
    write(
        "e.rs",
        "pub fn lossy() {}\n#[cfg(test)]\nmod tests { use crate::Thing; }\n",
    );
    // Siblings: d/x.rs and d/y.rs use each other's items, one through the parent's re-export.
    write(
        "d/mod.rs",
        "pub mod x;\npub mod y;\npub use y::Y;\nuse x::X;\n",
    );
    write("d/x.rs", "pub struct X;\nuse super::Y;\n");
    write(
        "d/y.rs",
        "pub struct Y;\nfn f() -> super::x::X { todo!() }\n",
    );

    let core = Core::read(&src);
    let top = top_level_graph(&core);
    let problems = check(&top, &[], "top-level");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("a -> b -> a"), "{}", problems[0]);
    assert!(
        problems[0].contains("a.rs:1") && problems[0].contains("b.rs:2"),
        "{}",
        problems[0]
    );
    assert!(
        top.edges["c"].contains_key("e"),
        "the serde string is a use"
    );
    assert!(!top.edges["e"].contains_key("c"), "test code is not a use");

    let siblings = sibling_graph(&core);
    let problems = check(&siblings, &[], "sibling");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("d/x -> d/y -> d/x"), "{}", problems[0]);

    // Listed circles pass; a listed circle that is gone is reported as stale.
    assert!(check(&top, &[(&["b", "a"], "someone")], "top-level").is_empty());
    let stale = check(&top, &[(&["a", "b"], "x"), (&["c", "e"], "y")], "top-level");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(stale[0].contains("c -> e") && stale[0].contains("no longer exists"));
}
