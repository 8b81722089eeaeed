/*
 * buf.c -- a growable byte buffer for writing replies and requests.
 *
 * The data is kept NUL-terminated. An allocation failure sets oom and every
 * later append is ignored, so a writer can append a whole reply and check
 * once at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define BUF_MIN_CAP 64

void
proto_buf_init(struct proto_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = 0;
}

void
proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	proto_buf_init(b);
}

/* Empty the buffer, keeping its memory, and forget an earlier failure. */
void
proto_buf_reset(struct proto_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for n more bytes and the NUL; 0 on success. */
static int
buf_grow(struct proto_buf *b, size_t n)
{
	size_t need, cap;
	char  *p;

	if (n > SIZE_MAX - 1 - b->len)
		return (-1);
	need = b->len + n + 1;
	if (need <= b->cap)
		return (0);
	cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		return (-1);
	b->data = p;
	b->cap = cap;
	return (0);
}

void
proto_buf_add(struct proto_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (buf_grow(b, n) == -1) {
		b->oom = 1;
		return;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
proto_buf_addstr(struct proto_buf *b, const char *s)
{
	if (s != NULL)
		proto_buf_add(b, s, strlen(s));
}

void
proto_buf_addch(struct proto_buf *b, char c)
{
	proto_buf_add(b, &c, 1);
}
