#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

struct item { int id; char label[16]; };

struct item *alloc_items(size_t count)
{
    // ruleid: pb.cpp.alloc-size-overflow
    struct item *items = malloc(count * sizeof(struct item));
    return items;
}

struct item *alloc_items_checked(size_t count)
{
    if (count > SIZE_MAX / sizeof(struct item))
        return NULL;
    // ok: pb.cpp.alloc-size-overflow
    return malloc(count * sizeof(struct item));
}

int *alloc_grid(int w, int h)
{
    // ruleid: pb.cpp.alloc-size-overflow
    int *g = (int *)realloc(NULL, w * h * sizeof(int));
    // ok: pb.cpp.alloc-size-overflow
    int *fixed = malloc(16 * sizeof(int));
    // ok: pb.cpp.alloc-size-overflow
    int *zeroed = calloc(w, sizeof(int));
    free(fixed);
    free(zeroed);
    return g;
}

void fill(int n)
{
    // ruleid: pb.cpp.alloc-size-overflow
    int *values = malloc(n * sizeof(int));
    // ruleid: pb.cpp.malloc-null-deref
    values[0] = 1;
    free(values);

    char *name = malloc(32);
    if (name == NULL)
        return;
    // ok: pb.cpp.malloc-null-deref
    name[0] = '\0';
    free(name);
}

void release(void)
{
    char local[64];
    int x = 0;
    char *heap = malloc(10);
    // ruleid: pb.cpp.free-non-heap
    free(local);
    // ruleid: pb.cpp.free-non-heap
    free(&x);
    // ok: pb.cpp.free-non-heap
    free(heap);
}

struct node { struct node *next; int value; };

int use_freed(struct node *n)
{
    free(n);
    // ruleid: pb.cpp.use-after-free
    return n->value;
}

void safe_free(struct node *n)
{
    struct node *next = n->next;
    free(n);
    n = NULL;
    // ok: pb.cpp.use-after-free
    printf("%p\n", (void *)next);
}

void twice(char *p, int err)
{
    // ruleid: pb.cpp.double-free
    free(p);
    if (err) {
        free(p);
    }
}

void once(char *p)
{
    free(p);
    p = malloc(4);
    // ok: pb.cpp.double-free
    free(p);
}

void off_by_one(void)
{
    int arr[10];
    int i;
    for (i = 0; i <= 10; i++)
        // ruleid: pb.cpp.loop-off-by-one-write
        arr[i] = 0;
    for (i = 0; i < 10; i++)
        // ok: pb.cpp.loop-off-by-one-write
        arr[i] = 0;
}

void strip_newline(void)
{
    char line[128];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return;
    // ruleid: pb.cpp.strlen-minus-one-index
    line[strlen(line) - 1] = '\0';
    // ok: pb.cpp.strlen-minus-one-index
    line[strcspn(line, "\n")] = '\0';
    size_t len = strlen(line);
    if (len > 0) {
        // ok: pb.cpp.strlen-minus-one-index
        line[len - 1] = '\0';
    }
}

void doubled(const char *arg)
{
    int data = atoi(arg);
    if (data > 0) {
        // ruleid: pb.cpp.input-integer-overflow
        int result = data * 2;
        printf("%d\n", result);
    }
}

void doubled_checked(const char *arg)
{
    int data = atoi(arg);
    if (data > 0 && data < INT_MAX / 2) {
        // ok: pb.cpp.input-integer-overflow
        int result = data * 2;
        printf("%d\n", result);
    }
}

void set_slot(void)
{
    int table[10];
    int idx;
    scanf("%d", &idx);
    // ruleid: pb.cpp.unchecked-input-index
    table[idx] = 1;
}

void set_slot_checked(void)
{
    int table[10];
    int idx;
    if (scanf("%d", &idx) != 1)
        return;
    if (idx < 0 || idx >= 10)
        return;
    // ok: pb.cpp.unchecked-input-index
    table[idx] = 1;
}

void escape_html(const char *src, char *dst)
{
    int j = 0;
    // ruleid: pb.cpp.unbounded-expanding-copy
    for (int i = 0; src[i] != '\0'; i++) {
        if (src[i] == '&') {
            dst[j++] = '&';
            dst[j++] = 'a';
            dst[j++] = 'm';
            dst[j++] = 'p';
            dst[j++] = ';';
        } else {
            dst[j++] = src[i];
        }
    }
    dst[j] = '\0';
}

void escape_html_bounded(const char *src, char *dst, size_t cap)
{
    size_t j = 0;
    // ok: pb.cpp.unbounded-expanding-copy
    for (size_t i = 0; src[i] != '\0'; i++) {
        if (j + 6 >= cap)
            break;
        if (src[i] == '&') {
            dst[j++] = '&';
            dst[j++] = 'a';
            dst[j++] = 'm';
            dst[j++] = 'p';
            dst[j++] = ';';
        } else {
            dst[j++] = src[i];
        }
    }
    dst[j] = '\0';
}

#include <memory>
#include <vector>
#include <list>

unsigned char *alloc_image(size_t width, size_t height)
{
    // ruleid: pb.cpp.alloc-size-overflow
    unsigned char *img = new unsigned char[width * height * 4];
    return img;
}

std::vector<int> alloc_vector(size_t width, size_t height)
{
    // ok: pb.cpp.alloc-size-overflow
    std::vector<int> v(16);
    return v;
}

struct Widget { int v; };

void ownership()
{
    // ruleid: pb.cpp.auto-ptr
    std::auto_ptr<Widget> w(new Widget());
    // ok: pb.cpp.auto-ptr
    std::unique_ptr<Widget> u = std::make_unique<Widget>();
}

void prune(std::vector<int> &values)
{
    // ruleid: pb.cpp.iterator-invalidation
    for (int v : values) {
        if (v < 0)
            values.push_back(-v);
    }
}

void prune_ok(std::list<int> &values)
{
    // ok: pb.cpp.iterator-invalidation
    for (auto it = values.begin(); it != values.end();) {
        if (*it < 0)
            it = values.erase(it);
        else
            ++it;
    }
}

void erase_bad(std::list<int> &values)
{
    // ruleid: pb.cpp.iterator-invalidation
    for (auto it = values.begin(); it != values.end(); ++it) {
        if (*it == 0)
            values.erase(it);
    }
}

void arrays()
{
    // ruleid: pb.cpp.new-delete-mismatch
    int *a = new int[10];
    delete a;
    // ok: pb.cpp.new-delete-mismatch
    int *b = new int[10];
    delete[] b;
}
