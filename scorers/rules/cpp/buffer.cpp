#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct user { char name[32]; char *title; };

void copy_name(struct user *u, const char *input)
{
    // ruleid: pb.cpp.strcpy-overflow
    strcpy(u->name, input);
    // ok: pb.cpp.strcpy-overflow
    strcpy(u->name, "guest");
    // ok: pb.cpp.strcpy-overflow
    snprintf(u->name, sizeof(u->name), "%s", input);
}

char *dup_string(const char *src)
{
    char *dst = malloc(strlen(src) + 1);
    if (dst == NULL)
        return NULL;
    // ok: pb.cpp.strcpy-overflow
    strcpy(dst, src);
    return dst;
}

void checked_copy(char *dst, const char *src)
{
    if (strlen(src) >= 64)
        return;
    // ok: pb.cpp.strcpy-overflow
    strcpy(dst, src);
}

void stack_copies(const char *user, const unsigned char *data, size_t len)
{
    char name[64];
    unsigned char block[16];
    // ruleid: pb.cpp.stack-buffer-copy
    strcpy(name, user);
    // ruleid: pb.cpp.stack-buffer-copy
    memcpy(block, data, len);
    // ok: pb.cpp.stack-buffer-copy
    memcpy(block, data, sizeof(block));
    // ok: pb.cpp.stack-buffer-copy
    strncpy(name, user, sizeof(name) - 1);
    if (len <= sizeof(block)) {
        // ok: pb.cpp.stack-buffer-copy
        memcpy(block, data, len);
    }
    // ok: pb.cpp.stack-buffer-copy
    strcpy(name, "anonymous");
}

void build_path(char *path, const char *dir, const char *file)
{
    // ruleid: pb.cpp.strcat-overflow
    strcat(path, dir);
    char *joined = malloc(strlen(dir) + strlen(file) + 2);
    if (!joined)
        return;
    strncpy(joined, dir, strlen(dir) + 1);
    // ok: pb.cpp.strcat-overflow
    strcat(joined, file);
    // ok: pb.cpp.strcat-overflow
    strncat(path, file, 64 - strlen(path) - 1);
    free(joined);
}

void format_things(char *out, const char *name, int id)
{
    char msg[128];
    char small[8];
    // ruleid: pb.cpp.sprintf-overflow
    sprintf(msg, "hello %s", name);
    // ruleid: pb.cpp.sprintf-overflow
    sprintf(small, "%d-%d", id, id);
    // ruleid: pb.cpp.sprintf-overflow
    sprintf(out, "id=%d", id);
    // ok: pb.cpp.sprintf-overflow
    sprintf(msg, "id=%d", id);
    // ok: pb.cpp.sprintf-overflow
    snprintf(msg, sizeof(msg), "hello %s", name);
}

void read_input(void)
{
    char line[100];
    char word[32];
    // ruleid: pb.cpp.gets
    gets(line);
    // ok: pb.cpp.gets
    fgets(line, sizeof(line), stdin);
    // ruleid: pb.cpp.scanf-unbounded-string
    scanf("%s", word);
    // ruleid: pb.cpp.scanf-unbounded-string
    sscanf(line, "%d %s", &word[0], word);
    // ok: pb.cpp.scanf-unbounded-string
    scanf("%31s", word);
    // ok: pb.cpp.scanf-unbounded-string
    sscanf(line, "%d", &word[0]);
}

void append_values(char *buf, size_t size, const int *vals, int n)
{
    char *p = buf;
    size_t left = size;
    for (int i = 0; i < n; i++) {
        int w = snprintf(p, left, "%d,", vals[i]);
        // ruleid: pb.cpp.snprintf-result-unchecked
        p += w;
        // ruleid: pb.cpp.snprintf-result-unchecked
        left -= w;
    }
}

void append_checked(char *buf, size_t size, const int *vals, int n)
{
    char *p = buf;
    size_t left = size;
    for (int i = 0; i < n; i++) {
        int w = snprintf(p, left, "%d,", vals[i]);
        if (w < 0 || (size_t)w >= left)
            break;
        // ok: pb.cpp.snprintf-result-unchecked
        p += w;
        left -= w;
    }
}

void log_message(const char *user_msg)
{
    // ruleid: pb.cpp.format-string
    printf(user_msg);
    // ruleid: pb.cpp.format-string
    fprintf(stderr, user_msg);
    // ok: pb.cpp.format-string
    printf("%s", user_msg);
    // ok: pb.cpp.format-string
    fprintf(stderr, "error: %s\n", user_msg);
}

// std::- and ::-qualified calls are the same functions (<cstring>, <cstdio>)
#include <cstdio>
#include <cstring>
#include <string>

struct Label { char text[16]; };

void qualified_copies(Label &l, const std::string &name, char *out, const char *msg)
{
    // ruleid: pb.cpp.strcpy-overflow
    std::strcpy(l.text, name.c_str());
    // ruleid: pb.cpp.strcpy-overflow
    ::strcpy(l.text, name.c_str());
    // ok: pb.cpp.strcpy-overflow
    std::snprintf(l.text, sizeof(l.text), "%s", name.c_str());
    // ruleid: pb.cpp.strcat-overflow
    std::strcat(out, msg);
    // ruleid: pb.cpp.sprintf-overflow
    std::sprintf(out, "%s-%d", msg, 7);
    // ruleid: pb.cpp.format-string
    std::printf(msg);
    // ruleid: pb.cpp.format-string
    std::fprintf(stderr, name.c_str());
    // ok: pb.cpp.format-string
    std::printf("%s", msg);
}

std::string qualified_reads()
{
    char line[64];
    char user[32];
    // ruleid: pb.cpp.gets
    std::gets(line);
    // ruleid: pb.cpp.scanf-unbounded-string
    std::sscanf(line, "%s", user);
    // ok: pb.cpp.scanf-unbounded-string
    std::sscanf(line, "%31s", user);
    return user;
}
