#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>

void temp(void)
{
    char name[L_tmpnam];
    // ruleid: pb.cpp.insecure-tempfile
    tmpnam(name);
    char tmpl[] = "/tmp/appXXXXXX";
    // ok: pb.cpp.insecure-tempfile
    int fd = mkstemp(tmpl);
    (void)fd;
}

void split(char *line)
{
    // ruleid: pb.cpp.strtok
    char *tok = strtok(line, ",");
    char *save = NULL;
    // ok: pb.cpp.strtok
    char *tok2 = strtok_r(line, ",", &save);
    (void)tok; (void)tok2;
}

void perms(const char *path)
{
    // ruleid: pb.cpp.world-writable-permissions
    chmod(path, 0777);
    // ok: pb.cpp.world-writable-permissions
    chmod(path, 0640);
    // ruleid: pb.cpp.world-writable-permissions
    int fd = open(path, O_CREAT | O_WRONLY, 0666);
    // ok: pb.cpp.world-writable-permissions
    int fd2 = open(path, O_CREAT | O_WRONLY, 0600);
    (void)fd; (void)fd2;
}

void masks(void)
{
    // ruleid: pb.cpp.umask-zero
    umask(0);
    // ok: pb.cpp.umask-zero
    umask(077);
}

#include <cstdio>

std::FILE *qualified_temp()
{
    char name[L_tmpnam];
    // ruleid: pb.cpp.insecure-tempfile
    std::tmpnam(name);
    // ok: pb.cpp.insecure-tempfile
    return std::tmpfile();
}
