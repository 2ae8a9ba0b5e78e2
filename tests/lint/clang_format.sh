#!/bin/bash
# Fails when a C source or header differs from what clang-format makes of it
# with the repository's .clang-format, and names the lines that differ.
#   clang_format.sh SOURCE_DIR [CLANG_FORMAT]
# The files are the ones git tracks; outside a git checkout, every .c/.h
# under SOURCE_DIR except build trees.
set -euo pipefail
cd "$1"
clang_format=${2:-clang-format}

if command -v git >/dev/null && [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
	mapfile -t files < <(git ls-files -- '*.c' '*.h')
else
	mapfile -t files < <(find . \( -name .git -o -name 'build*' \) -prune -o \
		-type f \( -name '*.c' -o -name '*.h' \) -print | sort)
fi

present=()
for f in "${files[@]}"; do
	[ -f "$f" ] && present+=("$f") # a deleted file git still tracks
done
if [ ${#present[@]} -eq 0 ]; then
	echo "no C files found under $1" >&2
	exit 1
fi

if ! "$clang_format" --dry-run -Werror "${present[@]}"; then
	echo "the files above differ from clang-format: run clang-format -i on them" >&2
	exit 1
fi
echo "${#present[@]} files formatted as .clang-format says"
