#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a section-1 man page for each tool from the tool's own --help output.

usage: gen-man1.py OUTDIR VERSION TOOL=PROGRAM...

Runs `PROGRAM --help` and writes OUTDIR/TOOL.1. The help text is the only
source of the page, so it follows these conventions (the tools' usage()
functions keep them; a text that breaks one stops the build with a message):

  Usage: TOOL ARGS            first line: the SYNOPSIS
  One-line summary.           next line: the NAME line
  More text...                paragraphs before the first list: DESCRIPTION
                              (the summary when there are none)

  Heading:                    a list: items indented by two spaces, the term,
    TERM     text             two or more spaces, the text; deeper-indented lines
    TERM                      continue it (a term alone on its line takes its
             text             text from the lines below). "Commands:" is
                              COMMANDS; a list of options (terms starting with
                              '-') is OPTIONS, under its heading unless that is
                              "Options"; items without text are examples; a
                              text line starting with '-' (arguments of another
                              program) keeps a line of its own

  Exit status: 0 success, 1 runtime failure, 2 bad arguments.
                              required: EXIT STATUS, one entry per number

Other paragraphs after the first list go to NOTES. A tool whose help says
"COMMAND --help" has per-command help: `PROGRAM CMD --help` is read for each
command of its list (same conventions, without summary and exit status), its
usage goes into SYNOPSIS and its text into COMMANDS, and the pointer paragraph
itself is left out. SEE ALSO names libdrv(7) and the other tools.
"""
import os
import re
import subprocess
import sys

ITEM_RE = re.compile(r"(\S(?:.*?\S)?)(?: {2,}(\S.*))?$")
USAGE_RE = re.compile(r"[Uu]sage: (\S+)(.*)$")


class HelpError(Exception):
    pass


def run_help(program, args):
    env = dict(os.environ, LC_ALL="C", ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([program, *args, "--help"], capture_output=True, text=True, env=env,
                       timeout=60, check=False)
    if r.returncode != 0:
        raise HelpError("`%s --help` exited %d: %s" % (" ".join([program, *args]), r.returncode,
                                                       r.stderr.strip()))
    return r.stdout


def parse(text):
    """(usage, elements): elements are ("para", [lines]) and ("list", heading, [[term, [text]]])."""
    lines = text.rstrip("\n").split("\n")
    m = USAGE_RE.match(lines[0])
    if not m:
        raise HelpError("the first line is not 'Usage: TOOL ARGS': %r" % lines[0])
    usage = (m.group(1), m.group(2).strip())
    elements, para, items = [], None, None
    for i, line in enumerate(lines[1:], 1):
        if not line.strip():
            para = items = None
            continue
        indent = len(line) - len(line.lstrip(" "))
        text = line.strip()
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if indent == 0 and text.endswith(":") and following.startswith("  "):
            items = []
            elements.append(("list", text[:-1], items))
            para = None
        elif indent == 0:
            if para is None:
                para = []
                elements.append(("para", para))
                items = None
            para.append(text)
        elif indent == 2:
            if items is None:
                items = []
                elements.append(("list", None, items))
                para = None
            term, first = ITEM_RE.match(text).groups()
            items.append([term, [first] if first else []])
        else:
            if not items:
                raise HelpError("an indented line outside a list: %r" % line)
            items[-1][1].append(text)
    return usage, elements


def esc(text):
    """Running text: groff specials escaped, option dashes as minus signs, `code` in bold."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"(?<![\w-])-[\w-]*", lambda m: m.group(0).replace("-", "\\-"), text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def syntax(text):
    """A synopsis or a list term: options and literal words in bold, PLACEHOLDERS in italics."""
    def word(m):
        w = m.group(0)
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", w):
            return "\\fI%s\\fR" % w
        return "\\fB%s\\fR" % w.replace("-", "\\-")
    text = text.replace("\\", "\\e")
    return re.sub(r"-{0,2}[A-Za-z0-9][\w-]*", word, text)


def lower_first(s):
    return s[0].lower() + s[1:] if len(s) > 1 and s[0].isupper() and s[1].islower() else s


def is_options(items):
    return all(term.startswith("-") for term, _ in items)


def is_examples(items):
    return all(not text for _, text in items)


def para_lines(lines):
    return [".PP"] + [esc(line) for line in lines]


def item_text(lines):
    """An item's text, filled; a line starting with '-' (another program's
    arguments) keeps a line of its own and is not hyphenated."""
    out, code = [], False
    for line in lines:
        if line.startswith("-"):
            out += [".br", re.sub(r"(^|\s)(?=\S)", r"\1\\%", esc(line))]
            code = True
        else:
            out += [".br"] if code else []
            out.append(esc(line))
            code = False
    return out


def list_lines(heading, items):
    if is_examples(items):
        out = para_lines([heading + ":"]) if heading else []
        out += [".PP", ".RS", ".EX"] + [esc(term) for term, _ in items] + [".EE", ".RE"]
        return out
    out = []
    for term, text in items:
        out += [".TP", syntax(term)] + item_text(text)
    return out


def synopsis_lines(usage):
    name, args = usage
    return [".SY %s" % name.replace("-", "\\-"), syntax(args), ".YS"] if args else \
           [".SY %s" % name.replace("-", "\\-"), ".YS"]


def exit_status_lines(text):
    text = text.rstrip(".")
    entries = re.split(r",\s+(?=\d+\s)", text)
    if not all(re.match(r"\d+\s", e) for e in entries):
        return para_lines([text + "."])
    out = []
    for e in entries:
        code, what = e.split(None, 1)
        out += [".TP", ".B %s" % code, esc(what)]
    return out


def page(tool, program, version, others):
    usage, elements = parse(run_help(program, []))
    if usage[0] != tool:
        raise HelpError("the usage line names %r, not %r" % (usage[0], tool))
    if not elements or elements[0][0] != "para" or len(elements[0][1]) != 1:
        raise HelpError("the line after 'Usage:' must be a one-line summary, then a blank line")
    summary = elements[0][1][0]

    sub_help = False
    description, commands, options, notes, exit_status = [], [], [], [], None
    seen_list = False
    for el in elements:
        if el[0] == "para":
            text = " ".join(el[1])
            if text.startswith("Exit status:"):
                exit_status = text[len("Exit status:"):].strip()
            elif "COMMAND --help" in text:
                sub_help = True
            elif seen_list:
                notes.append(el)
            else:
                description.append(el)
            continue
        seen_list = True
        _, heading, items = el
        if heading == "Commands":
            commands.append(items)
        elif is_options(items) and not is_examples(items):
            options.append(el)
        else:
            notes.append(el)
    if exit_status is None:
        raise HelpError("no 'Exit status:' paragraph")
    if sub_help and not commands:
        raise HelpError("the help points at 'COMMAND --help' but has no 'Commands:' list")

    synopses, command_out = [], []
    for items in commands:
        if not sub_help:
            command_out += list_lines(None, items)
            continue
        for term, _ in items:
            cmd = term.split()[0]
            sub_usage, sub_elements = parse(run_help(program, [cmd]))
            if sub_usage[0] != tool or not sub_usage[1].startswith(cmd):
                raise HelpError("`%s %s --help` does not start 'Usage: %s %s'" % (tool, cmd, tool, cmd))
            synopses.append(sub_usage)
            command_out += [".SS %s" % cmd] + synopsis_lines(sub_usage)
            for el in sub_elements:
                command_out += para_lines(el[1]) if el[0] == "para" else list_lines(el[1], el[2])
    if not synopses:
        synopses.append(usage)

    out = ['.\\" Generated by man/gen-man1.py from `%s --help`; do not edit.' % tool,
           '.TH %s 1 "" "libdrv %s" "libdrv Manual"' % (tool.upper(), version),
           ".SH NAME",
           "%s \\- %s" % (tool.replace("-", "\\-"), esc(lower_first(summary.rstrip(".")))),
           ".SH SYNOPSIS"]
    for s in synopses:
        out += synopsis_lines(s)
    # The summary is the NAME line; DESCRIPTION repeats it only when it has nothing else.
    out += [".SH DESCRIPTION"]
    for el in description[1:] or description:
        out += para_lines(el[1])
    if command_out:
        out += [".SH COMMANDS"] + command_out
    if options:
        out += [".SH OPTIONS"]
        for _, heading, items in options:
            if heading not in (None, "Options"):
                out += [".SS %s" % esc(heading)]
            out += list_lines(None, items)
    out += [".SH EXIT STATUS"] + exit_status_lines(exit_status)
    if notes:
        out += [".SH NOTES"]
        for el in notes:
            out += para_lines(el[1]) if el[0] == "para" else list_lines(el[1], el[2])
    see = ["libdrv (7)"] + ["%s (1)" % o for o in sorted(others)]
    out += [".SH SEE ALSO"]
    out += [".BR %s%s" % (s.replace("-", "\\-"), "," if k < len(see) - 1 else "")
            for k, s in enumerate(see)]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 4 or not all("=" in a for a in sys.argv[3:]):
        sys.exit(__doc__)
    outdir, version = sys.argv[1], sys.argv[2]
    tools = dict(a.split("=", 1) for a in sys.argv[3:])
    os.makedirs(outdir, exist_ok=True)
    for tool, program in tools.items():
        try:
            text = page(tool, program, version, [t for t in tools if t != tool])
        except HelpError as e:
            sys.exit("gen-man1.py: %s: %s" % (tool, e))
        with open(os.path.join(outdir, tool + ".1"), "w", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
