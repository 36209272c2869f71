/* errname.h: errno names for the guest programs, so wasm and native builds print the same. */
#ifndef WASI_TEST_ERRNAME_H
#define WASI_TEST_ERRNAME_H

#include <errno.h>

static const char *errname(int e) {
    static const struct {
        int e;
        const char *name;
    } names[] = {
        {0, "OK"},           {EACCES, "EACCES"},   {EAGAIN, "EAGAIN"},
        {EBADF, "EBADF"},    {EEXIST, "EEXIST"},   {EFAULT, "EFAULT"},
        {EINVAL, "EINVAL"},  {EISDIR, "EISDIR"},   {ELOOP, "ELOOP"},
        {ENOENT, "ENOENT"},  {ENOTDIR, "ENOTDIR"}, {ENOTEMPTY, "ENOTEMPTY"},
        {EPERM, "EPERM"},    {EROFS, "EROFS"},     {ESPIPE, "ESPIPE"},
        {EXDEV, "EXDEV"},    {EPIPE, "EPIPE"},     {ENAMETOOLONG, "ENAMETOOLONG"},
#ifdef ENOTCAPABLE
        {ENOTCAPABLE, "ENOTCAPABLE"},
#endif
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    return "E?";
}

#endif
