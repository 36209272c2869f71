/* textool.c: a small text tool: reads stdin (or the file argv[1]) and prints line, word and
 * byte counts, then each word's count, most frequent first. Prints the same wasm and native. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct word {
    char *text;
    long count;
} word;

static word *words;
static size_t nwords;
static size_t cap;

static void count(const char *w) {
    for (size_t i = 0; i < nwords; i++) {
        if (strcmp(words[i].text, w) == 0) {
            words[i].count++;
            return;
        }
    }
    if (nwords == cap) {
        cap = cap ? cap * 2 : 64;
        words = realloc(words, cap * sizeof *words);
    }
    words[nwords++] = (word){strdup(w), 1};
}

static int by_count(const void *a, const void *b) {
    const word *x = a;
    const word *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

int main(int argc, char **argv) {
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    long lines = 0;
    long nw = 0;
    long nbytes = 0;
    char cur[256];
    size_t len = 0;
    int c;
    while ((c = getc(in)) != EOF) {
        nbytes++;
        if (c == '\n')
            lines++;
        if (isalnum(c) && len < sizeof cur - 1) {
            cur[len++] = (char)tolower(c);
        } else if (!isalnum(c) && len > 0) {
            cur[len] = '\0';
            count(cur);
            nw++;
            len = 0;
        }
    }
    if (len > 0) {
        cur[len] = '\0';
        count(cur);
        nw++;
    }
    printf("%ld lines, %ld words, %ld bytes\n", lines, nw, nbytes);
    if (nwords > 1)
        qsort(words, nwords, sizeof *words, by_count);
    for (size_t i = 0; i < nwords; i++)
        printf("%6ld %s\n", words[i].count, words[i].text);
    return 0;
}
