#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a section-3 man page for every function of libdrv's public headers.

usage: gen-man.py OUTDIR HEADER...

Each DRV_API function and each static inline helper gets OUTDIR/man3/<name>.3,
built from the header alone: the comment directly above a declaration is its
description. A comment separated by a blank line from a run of declarations
(no blank line inside the run) documents the whole run: the first function's
page carries it, the others are `.so` links to that page. Functions of the same
`---- Section ----` of a header (the whole header when it has none) see each other.
"""
import os
import re
import sys

SECTION_RE = re.compile(r"/\*\s*-{3,}\s*(.*?)\s*-{3,}\s*\*/")
NAME_RE = re.compile(r"([A-Za-z_]\w*)\s*\($")
RULE = ("On failure it returns a negative errno, and drv_errmsg(3) then says in "
        "words what went wrong and what to do.")


def comment_lines(block):
    """The text lines of a /* ... */ block, markers and common indent removed."""
    text = block.strip()[2:-2]
    lines = [re.sub(r"^\s*\* ?", "", l, count=1) if l.lstrip().startswith("*") else l.strip()
             for l in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def parse(path, include):
    """Yields dicts (name, proto, inline, doc, grouped, section) in header order."""
    src = open(path, encoding="utf-8").read().split("\n")
    section = None
    doc = None          # comment lines waiting for a declaration
    doc_gap = False     # a blank line came between that comment and now
    group = None        # doc of the run of declarations in progress
    i = 0
    while i < len(src):
        line = src[i]
        s = line.strip()
        m = SECTION_RE.fullmatch(s)
        if m:
            section, doc, group = m.group(1), None, None
            i += 1
        elif s.startswith("/*"):
            block = [line]
            while "*/" not in block[-1]:
                i += 1
                block.append(src[i])
            doc, doc_gap, group = comment_lines("\n".join(block)), False, None
            i += 1
        elif not s:
            doc_gap, group = True, None
            i += 1
        elif s.startswith("#"):
            i += 1      # preprocessor lines neither document nor interrupt
        elif s.startswith("DRV_API") or s.startswith("static inline"):
            decl = [s]
            while decl[-1].count(")") == 0 or " ".join(decl).count("(") > " ".join(decl).count(")"):
                i += 1
                decl.append(src[i].strip())
            i += 1
            text = " ".join(decl)
            inline = text.startswith("static inline")
            proto = text[:text.rindex(")") + 1].replace("DRV_API ", "").replace("( ", "(") + ";"
            name = NAME_RE.search(proto[:proto.index("(") + 1]).group(1)
            if inline:  # skip the body
                depth, opened = 0, False
                while not opened or depth > 0:
                    depth += src[i].count("{") - src[i].count("}")
                    opened = opened or "{" in src[i]
                    i += 1
            if group is None and doc is not None and doc_gap:
                group = {"doc": doc, "members": []}
            if group is not None:
                group["members"].append(name)
                yield dict(name=name, proto=proto, inline=inline, doc=group["doc"],
                           group=group, section=section, include=include)
            else:
                yield dict(name=name, proto=proto, inline=inline, doc=doc or [],
                           group=None, section=section, include=include)
            doc = None
        else:
            doc, group = None, None
            i += 1


def esc(text):
    """Escapes groff specials in running text."""
    text = text.replace("\\", "\\e")
    # a hyphen opening a word is a minus or an option dash: -errno, --socket, -1
    text = re.sub(r"(^|[\s(\[\"'`=,/|])-(-?)", lambda m: m.group(1) + "\\-" + ("\\-" if m.group(2) else ""), text)
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def description(lines):
    """groff for comment lines: paragraphs are filled, indented lines kept as they are."""
    out, para, pre = [], [], []
    base = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)

    def flush_para():
        if para:
            out.append(esc(" ".join(para)))
            para.clear()

    def flush_pre():
        if pre:
            cut = min(len(l) - len(l.lstrip()) for l in pre)
            out.extend([".RS 4", ".nf"] + [esc(l[cut:]) for l in pre] + [".fi", ".RE"])
            pre.clear()

    for l in lines:
        indent = len(l) - len(l.lstrip())
        if not l.strip():
            flush_para(), flush_pre()
            out.append(".PP")
        elif indent > base:
            flush_para()
            pre.append(l[base:].rstrip())
        else:
            flush_pre()
            para.append(l.strip())
    flush_para(), flush_pre()
    return out


def sentences(lines):
    text = " ".join(l.strip() for l in lines if l.strip())
    return [x for x in re.split(r"(?<=[.?!])\s+(?=[A-Z(])", text) if x]


def summary(fn):
    first = sentences(fn["doc"])
    if not first:
        return fn["section"] or fn["header_summary"]
    s = first[0].rstrip(".")
    if len(s) > 1 and s[0].isupper() and s[1].islower():
        s = s[0].lower() + s[1:]
    return s


def return_value(fn):
    said = [s for s in sentences(fn["doc"]) if re.search(r"\b[Rr]eturns?\b", s)]
    rtype = fn["proto"][:fn["proto"].index(fn["name"] + "(")].replace("static inline", "").strip()
    if rtype == "void":
        return said or ["None."]
    if fn["inline"]:
        return said + ["An inline helper: it cannot fail and leaves drv_errmsg(3) alone."]
    if rtype in ("int", "int64_t"):
        if said:
            return said + [RULE]
        return ["0 or a count on success, as everywhere in libdrv. " + RULE]
    return said or ["See DESCRIPTION."]


def page(fn, related, mentioned):
    name, inc = fn["name"], fn["include"]
    members = fn["group"]["members"] if fn["group"] else [name]
    out = ['.\\" Generated by man/gen-man.py from <%s>; do not edit.' % inc,
           '.TH %s 3 "" "libdrv" "libdrv Manual"' % esc(name),
           ".SH NAME",
           "%s \\- %s" % (", ".join(esc(m) for m in members), esc(fn["summary"])),
           ".SH SYNOPSIS", ".nf", ".B #include <%s>" % inc, ""]
    for m in members:
        out.append(esc(fn["protos"][m]))
    out += [".fi", ".PP"]
    out += (["An inline function of the header: nothing to link."] if fn["inline"] else
            ["Link with", ".BR \\-ldrv", "(pkg\\-config", ".BR libdrv )."])
    out += [".SH DESCRIPTION"]
    desc = description(fn["doc"]) if fn["doc"] else [
        "%s belongs to <%s>: %s." % (esc(name), inc, esc(fn["summary"]))]
    out += desc
    out += [".SH RETURN VALUE"] + [esc(s) for s in return_value(fn)]
    see = ["libdrv (7)"] + ["%s (3)" % r for r in sorted(set(related + mentioned)) if r not in members]
    out += [".SH SEE ALSO"]
    out += [".BR %s%s" % (esc(s), "," if k < len(see) - 1 else "") for k, s in enumerate(see)]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    outdir = os.path.join(sys.argv[1], "man3")
    os.makedirs(outdir, exist_ok=True)
    fns = []
    for path in sys.argv[2:]:
        include = "drv/" + os.path.basename(path)
        top = re.search(r"/\*\n(.*?)\*/", open(path, encoding="utf-8").read(), re.S)
        header_summary = sentences(comment_lines("/*" + top.group(1) + "*/"))[0].rstrip(".")
        for f in parse(path, include):
            f["header_summary"] = header_summary
            fns.append(f)
    names = {f["name"] for f in fns}
    protos = {f["name"]: f["proto"] for f in fns}
    for f in fns:
        f["protos"] = protos
        f["summary"] = summary(f)
    written = set()
    for f in fns:
        target = os.path.join(outdir, f["name"] + ".3")
        first = f["group"]["members"][0] if f["group"] else f["name"]
        if first != f["name"]:
            text = ".so man3/%s.3\n" % first
        else:
            related = [g["name"] for g in fns
                       if g["include"] == f["include"] and g["section"] == f["section"]
                       and (g["group"] is None or g["group"]["members"][0] == g["name"])]
            mentioned = [m for m in re.findall(r"\b(drv_\w+)\(", " ".join(f["doc"])) if m in names]
            text = page(f, related, mentioned)
        with open(target, "w", encoding="utf-8") as out:
            out.write(text)
        written.add(f["name"] + ".3")
    for stale in set(os.listdir(outdir)) - written:
        os.remove(os.path.join(outdir, stale))


if __name__ == "__main__":
    main()
