/* walk.c: walks the directory tree under argv[1] and prints each entry, sorted, with its type
 * and size (symbolic links: their target), then totals. Prints the same wasm and native. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long files;
static long dirs;
static long links;
static long long bytes;

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted, without "." and "..". *n gets the count; free each and the array. */
static char **read_names(const char *dir, int *n) {
    DIR *d = opendir(dir);
    char **names = NULL;
    int cap = 0;
    *n = 0;
    if (!d) {
        printf("cannot open %s\n", dir);
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, (size_t)cap * sizeof *names);
        }
        names[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    if (*n > 1)
        qsort(names, (size_t)*n, sizeof *names, compare);
    return names;
}

static void walk(const char *dir, const char *rel, int depth) {
    int n;
    char **names = read_names(dir, &n);
    for (int i = 0; i < n; i++) {
        char path[2048];
        char shown[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(shown, sizeof shown, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) {
            printf("%*s%s: lstat failed\n", depth * 2, "", shown);
        } else if (S_ISLNK(st.st_mode)) {
            char target[1024];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len < 0 ? 0 : len] = '\0';
            printf("%*s%s -> %s\n", depth * 2, "", shown, target);
            links++;
        } else if (S_ISDIR(st.st_mode)) {
            printf("%*s%s/\n", depth * 2, "", shown);
            dirs++;
            walk(path, shown, depth + 1);
        } else {
            printf("%*s%s (%lld bytes)\n", depth * 2, "", shown, (long long)st.st_size);
            files++;
            bytes += st.st_size;
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: walk DIR\n");
        return 2;
    }
    walk(argv[1], "", 0);
    printf("%ld files, %ld directories, %ld links, %lld bytes\n", files, dirs, links, bytes);
    return 0;
}
