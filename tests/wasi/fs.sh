#!/bin/sh
# fs.sh: real programs on mounted directories print what their native builds print: file I/O
# (fileio), a directory walk (walk), a text tool (textool); through both path resolvers, with
# --dir HOST alone, with --dir HOST::GUEST, with --cwd, and on a read-only mount.
. "$(dirname "$0")/lib.sh"
need fileio walk textool

# fileio in a fresh directory per run: native, then wasm under each resolver and mount form.
mkdir "$TMP/native"
(cd "$TMP/native" && "$GUESTS/fileio.native" .) >"$TMP/fileio.native"
check_contains "fileio native ran" "$(cat "$TMP/fileio.native")" "a.txt: [0AB34...]"
for resolver in openat2 portable; do
    export WIPPY_WASI_RESOLVER=$resolver
    mkdir "$TMP/a-$resolver" "$TMP/b-$resolver" "$TMP/c-$resolver"
    "$WIPPY" exec --dir "$TMP/a-$resolver::/data" "$GUESTS/fileio.wasm" /data \
        >"$TMP/fileio.a" 2>&1
    check_files "fileio at /data ($resolver)" "$TMP/fileio.a" "$TMP/fileio.native"
    "$WIPPY" exec --dir "$TMP/b-$resolver" "$GUESTS/fileio.wasm" "$TMP/b-$resolver" \
        >"$TMP/fileio.b" 2>&1
    check_files "fileio with --dir HOST alone ($resolver)" "$TMP/fileio.b" "$TMP/fileio.native"
    "$WIPPY" exec --dir "$TMP/c-$resolver::/work" --cwd /work "$GUESTS/fileio.wasm" . \
        >"$TMP/fileio.c" 2>&1
    check_files "fileio relative to --cwd ($resolver)" "$TMP/fileio.c" "$TMP/fileio.native"
    mkdir "$TMP/d-$resolver"
    (cd "$TMP/d-$resolver" && "$WIPPY" exec --dir . "$GUESTS/fileio.wasm" .) >"$TMP/fileio.d" 2>&1
    check_files "fileio with --dir . ($resolver)" "$TMP/fileio.d" "$TMP/fileio.native"
    check_eq "fileio cleaned up after itself ($resolver)" \
        "$(ls -A "$TMP/a-$resolver" "$TMP/b-$resolver" "$TMP/c-$resolver" "$TMP/d-$resolver" |
           tr -d '\n')" \
        "$TMP/a-$resolver:$TMP/b-$resolver:$TMP/c-$resolver:$TMP/d-$resolver:"
done
unset WIPPY_WASI_RESOLVER

# A tree to walk: nested directories, files of several sizes, links (one dangling, one out).
T="$TMP/tree"
mkdir -p "$T/src/lib/deep/deeper" "$T/docs" "$T/empty"
printf 'hello\n' >"$T/README"
head -c 10000 /dev/zero >"$T/src/zeros.bin"
i=0
while [ $i -lt 40 ]; do
    printf 'line %d\n' $i >>"$T/src/lib/lines.txt"
    : >"$T/docs/page$i.md"
    i=$((i + 1))
done
printf 'x' >"$T/src/lib/deep/deeper/leaf"
ln -s ../README "$T/src/readme-link"
ln -s nowhere "$T/docs/dangling"
ln -s /etc "$T/abs-link"
(cd "$T" && "$GUESTS/walk.native" .) >"$TMP/walk.native"
"$WIPPY" exec --dir-ro "$T::/tree" "$GUESTS/walk.wasm" /tree >"$TMP/walk.wasm" 2>&1
check_files "walk a read-only mount" "$TMP/walk.wasm" "$TMP/walk.native"
check_contains "walk saw the deepest file" "$(cat "$TMP/walk.wasm")" \
    "src/lib/deep/deeper/leaf (1 bytes)"
WIPPY_WASI_RESOLVER=portable "$WIPPY" exec --dir "$T::/" "$GUESTS/walk.wasm" / \
    >"$TMP/walk.root" 2>&1
check_files "walk a tree mounted at / (portable)" "$TMP/walk.root" "$TMP/walk.native"

# The text tool, fed through a pipe and from a mounted file.
i=0
while [ $i -lt 300 ]; do
    echo "The quick brown fox $i jumps over the lazy dog; the dog sleeps. Fox $((i % 7))!"
    i=$((i + 1))
done >"$TMP/text.txt"
"$GUESTS/textool.native" <"$TMP/text.txt" >"$TMP/text.native"
cat "$TMP/text.txt" | "$WIPPY" exec "$GUESTS/textool.wasm" >"$TMP/text.pipe" 2>&1
check_files "textool from a pipe" "$TMP/text.pipe" "$TMP/text.native"
"$WIPPY" exec --dir-ro "$TMP::/in" "$GUESTS/textool.wasm" /in/text.txt >"$TMP/text.file" 2>&1
check_files "textool from a mounted file" "$TMP/text.file" "$TMP/text.native"
"$WIPPY" exec "$GUESTS/textool.wasm" <"$TMP/text.txt" >"$TMP/text.redirect" 2>&1
check_files "textool from a redirected file" "$TMP/text.redirect" "$TMP/text.native"
check_contains "textool counted" "$(head -1 "$TMP/text.native")" "300 lines"

finish
