#!/bin/sh
# sandbox.sh: every escape attempt of escape.c and every read-only violation of readonly.c,
# through both path resolvers (openat2 and the portable walk), on fresh trees each time. The
# guest's report must match the expected one line for line, and the host side is checked too:
# nothing outside the mount and nothing in the read-only mount changed.
. "$(dirname "$0")/lib.sh"
need escape readonly

# A mount with links out of it of every kind, and a secret beside it.
make_escape_tree() {
    T=$1
    mkdir -p "$T/outside" "$T/box/a/b/c"
    echo SECRET-XYZZY >"$T/secret.txt"
    echo SECRET-XYZZY >"$T/outside/secret.txt"
    touch -d '2001-02-03 04:05:06' "$T/secret.txt"
    echo inside >"$T/box/inside.txt"
    ln -s "$T/secret.txt" "$T/box/link_abs"
    ln -s ../secret.txt "$T/box/link_rel"
    ln -s ../../../../secret.txt "$T/box/a/b/c/link_deep"
    ln -s ../outside "$T/box/outdir_link"
    ln -s "$T/outside" "$T/box/outdir_abs"
    ln -s link_rel "$T/box/chain1"
    ln -s chain1 "$T/box/chain2"
    ln -s ../../inside.txt "$T/box/a/b/up"
    ln -s "/proc/self/root$T/secret.txt" "$T/box/magic"
    ln -s a/b/../../.. "$T/box/sneaky"
    ln -s . "$T/box/self"
    ln -s ../created_out.txt "$T/box/dangling_out"
}

# What lies outside the mount: names, sizes, modification times, contents.
outside_state() {
    (cd "$1" && find . -path ./box -prune -o -print | sort | while read -r f; do
        printf '%s %s\n' "$f" "$(stat -c '%s %Y' "$f")"
        [ -f "$f" ] && cat "$f"
    done)
}

for resolver in openat2 portable; do
    export WIPPY_WASI_RESOLVER=$resolver
    T="$TMP/escape-$resolver"
    make_escape_tree "$T"
    outside_state "$T" >"$TMP/before"
    "$WIPPY" exec --dir "$T/box::/box" "$GUESTS/escape.wasm" /box >"$TMP/escape.out" 2>&1
    check_eq "escape: guest ran ($resolver)" "$?" 0
    check_files "escape: every attempt blocked ($resolver)" "$TMP/escape.out" \
        "$HERE/escape.expected"
    if grep -q SECRET "$TMP/escape.out"; then
        fail "escape: the secret reached the guest ($resolver)"
    else
        pass "escape: the secret never reached the guest ($resolver)"
    fi
    outside_state "$T" >"$TMP/after"
    check_files "escape: nothing outside changed ($resolver)" "$TMP/after" "$TMP/before"
    check_eq "escape: the mount kept its file ($resolver)" "$(cat "$T/box/inside.txt")" inside
done

for resolver in openat2 portable; do
    export WIPPY_WASI_RESOLVER=$resolver
    R="$TMP/ro-$resolver"
    W="$TMP/rw-$resolver"
    mkdir -p "$R/sub" "$R/emptydir" "$W"
    echo "read me" >"$R/file.txt"
    echo mine >"$W/mine.txt"
    touch -d '2001-02-03 04:05:06' "$R/file.txt"
    outside_state "$R" >"$TMP/before"
    "$WIPPY" exec --dir-ro "$R::/ro" --dir "$W::/rw" "$GUESTS/readonly.wasm" /ro /rw \
        >"$TMP/ro.out" 2>&1
    check_eq "read-only: guest ran ($resolver)" "$?" 0
    check_files "read-only: every change refused ($resolver)" "$TMP/ro.out" \
        "$HERE/readonly.expected"
    outside_state "$R" >"$TMP/after"
    check_files "read-only: the mount is unchanged ($resolver)" "$TMP/after" "$TMP/before"
    check_eq "read-only: the writable mount was written ($resolver)" "$(cat "$W/mine.txt")" \
        "mine
more"
    check_eq "read-only: nothing moved into the writable mount ($resolver)" "$(ls "$W")" \
        mine.txt
done

finish
