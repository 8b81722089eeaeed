/*
 * lop.c -- the List of Participants as a PDF (roster export participants
 * -o lop.pdf): A4. The first page opens with the meeting's title, its
 * city and dates, the list's title and the officers the event names
 * (chair, co-chair, secretariat); then come the delegations in the
 * export's order (countries, then organisations), each under its party's
 * name, its people as the export orders them (the head first): honorific
 * and name, the Latin form beside a name written in another script, title
 * and e-mail. From the second page a running header; "page N of M" at the
 * foot of every page.
 *
 * The document is a list of blocks (the opening, a section's heading, a
 * delegation's heading, a person), made twice by the same code: first
 * measured and placed on pages, so that the count of pages is known
 * before the first page is drawn and a heading is never left at the foot
 * of a page without its first person; then drawn. A delegation that goes
 * on over a page break has its name again at the top of the next page.
 * Memory: one small record per block, and the text of one block at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster.h"

#define LOP_FAMILY PDF_FAMILY
#define LOP_TITLE  "List of participants"

/* The page, in points. */
#define LOP_WIDTH	PDF_A4_WIDTH
#define LOP_HEIGHT	PDF_A4_HEIGHT
#define LOP_MARGIN	56.7 /* left and right: 20 mm */
#define LOP_TEXTW	(LOP_WIDTH - 2 * LOP_MARGIN)
#define LOP_TOP1	56.7 /* where the first page's text starts */
#define LOP_TOP		70.0 /* and the others', under the running header */
#define LOP_RULE	50.0 /* the running header's rule */
#define LOP_BOTTOM	(LOP_HEIGHT - 62.0) /* where text ends */
#define LOP_FOOT	(LOP_HEIGHT - 42.0) /* "page N of M" */
#define LOP_NAMEW	(LOP_TEXTW * 0.47)  /* a person: the name */
#define LOP_INFOX	(LOP_MARGIN + LOP_TEXTW * 0.5)
#define LOP_INFOW	(LOP_TEXTW * 0.5) /* title and e-mail */
#define LOP_INDENT	8.0		  /* people under their heading */
#define LOP_GAP_PERSON	7.0		  /* space above a person */
#define LOP_GAP_DELEG	16.0		  /* a delegation */
#define LOP_GAP_SECTION 24.0		  /* a section */

enum lop_kind {
	LOP_OPENING,	/* the first page's heading */
	LOP_SECTION,	/* Countries, Organisations: at person i */
	LOP_DELEGATION, /* of person i */
	LOP_PERSON
};

struct lop_block {
	enum lop_kind kind;
	size_t	      i;    /* the person, or the first of it */
	double	      h;    /* its height */
	double	      gap;  /* the space above it, unless first on a page */
	int	      keep; /* on the same page as the next block */
	int	      page; /* from 1 */
	double	      y;    /* its top */
	int	      continued; /* the delegation's name above it, again */
};

struct lop {
	struct pdf	    *pdf;
	const struct people *pp;
	const char	    *title; /* the list's */
	int		     no_email;
	struct pdf_font	    *big, *head, *deleg, *body, *small;
	struct lop_block    *b;
	size_t		     nb;
	int		     npages;
};

static const char *const lop_months[] = { "January", "February", "March",
	"April", "May", "June", "July", "August", "September", "October",
	"November", "December" };

/* A date of the event, YYYY-MM-DD; 0 when it is not one. */
static int
lop_date(const char *s, int *y, int *m, int *d)
{
	if (s == NULL || sscanf(s, "%4d-%2d-%2d", y, m, d) != 3 || *m < 1 ||
	    *m > 12 || *d < 1 || *d > 31)
		return (0);
	return (1);
}

/* The event's dates as people write them: "26–28 November 2025",
 * "30 November – 2 December 2025", "26 November 2025". */
static void
lop_dates(const char *starts, const char *ends, char *buf, size_t size)
{
	int y0, m0, d0, y1, m1, d1;

	if (!lop_date(starts, &y0, &m0, &d0)) {
		snprintf(buf, size, "%s", starts != NULL ? starts : "");
		return;
	}
	if (!lop_date(ends, &y1, &m1, &d1) ||
	    (y0 == y1 && m0 == m1 && d0 == d1))
		snprintf(buf, size, "%d %s %d", d0, lop_months[m0 - 1], y0);
	else if (y0 == y1 && m0 == m1)
		snprintf(buf, size, "%d\xe2\x80\x93%d %s %d", d0, d1,
		    lop_months[m0 - 1], y0);
	else if (y0 == y1)
		snprintf(buf, size, "%d %s \xe2\x80\x93 %d %s %d", d0,
		    lop_months[m0 - 1], d1, lop_months[m1 - 1], y0);
	else
		snprintf(buf, size, "%d %s %d \xe2\x80\x93 %d %s %d", d0,
		    lop_months[m0 - 1], y0, d1, lop_months[m1 - 1], y1);
}

/* A paragraph of one run, measured, drawn at (x, y) when draw; its
 * height. */
static double
lop_para(struct lop *l, const struct pdf_font *font, double x, double y,
    double w, int align, const char *s, int flags, int draw)
{
	struct pdf_text *t;
	double		 h;

	if ((t = pdf_text(l->pdf, font, w, align)) == NULL)
		return (0);
	pdf_text_add(t, s, flags);
	h = pdf_text_height(t);
	if (draw)
		pdf_text_draw(l->pdf, t, x, y);
	pdf_text_free(t);
	return (h);
}

/* The chair, the co-chair or the secretariat: a row of two columns
 * meeting in the middle of the page. */
static double
lop_officer(struct lop *l, const char *label, const char *name, double y,
    int draw)
{
	double h0, h1, mid = LOP_MARGIN + LOP_TEXTW / 2;

	if (name == NULL)
		return (0);
	h0 = lop_para(l, l->body, LOP_MARGIN, y, LOP_TEXTW / 2 - 6, PDF_RIGHT,
	    label, PDF_GREY, draw);
	h1 = lop_para(l, l->body, mid + 6, y, LOP_TEXTW / 2 - 6, PDF_LEFT, name,
	    0, draw);
	return ((h0 > h1 ? h0 : h1) + 3);
}

/* The first page's heading: the meeting, where and when, the list's
 * title, the officers. */
static double
lop_opening(struct lop *l, double y, int draw)
{
	const struct people_event *ev = &l->pp->event;
	char			   dates[128], *place = NULL;
	double			   y0 = y;

	y += lop_para(l, l->big, LOP_MARGIN, y, LOP_TEXTW, PDF_CENTER,
	    ev->title, PDF_BOLD, draw);
	y += 4;
	lop_dates(ev->starts, ev->ends, dates, sizeof dates);
	if ((ev->city != NULL && ev->country_name != NULL &&
		asprintf(&place, "%s (%s), %s", ev->city, ev->country_name,
		    dates) == -1) ||
	    (ev->city != NULL && ev->country_name == NULL &&
		asprintf(&place, "%s, %s", ev->city, dates) == -1))
		place = NULL;
	y += lop_para(l, l->deleg, LOP_MARGIN, y, LOP_TEXTW, PDF_CENTER,
	    place != NULL ? place : dates, 0, draw);
	free(place);
	y += 22;
	y += lop_para(l, l->head, LOP_MARGIN, y, LOP_TEXTW, PDF_CENTER,
	    l->title, PDF_BOLD, draw);
	if (ev->chair != NULL || ev->co_chair != NULL ||
	    ev->secretariat != NULL) {
		y += 16;
		y += lop_officer(l, "Chair", ev->chair, y, draw);
		y += lop_officer(l, "Co-chair", ev->co_chair, y, draw);
		y += lop_officer(l, "Secretariat", ev->secretariat, y, draw);
	}
	return (y - y0);
}

/* Countries or Organisations, with a rule under it. */
static double
lop_section(struct lop *l, const struct people_person *p, double y, int draw)
{
	double h;

	h = lop_para(l, l->head, LOP_MARGIN, y, LOP_TEXTW, PDF_LEFT,
	    strcmp(p->kind, "organisation") == 0 ?
		"Organisations" :
		"Countries",
	    PDF_BOLD, draw);
	if (draw)
		pdf_line(l->pdf, LOP_MARGIN, y + h + 2, LOP_MARGIN + LOP_TEXTW,
		    y + h + 2, 1.0, 0);
	return (h + 4);
}

/* A delegation's name (and "continued" at the top of a page). */
static double
lop_delegation(struct lop *l, const struct people_person *p, double y,
    int continued, int draw)
{
	struct pdf_text *t;
	double		 h;

	if ((t = pdf_text(l->pdf, l->deleg, LOP_TEXTW, PDF_LEFT)) == NULL)
		return (0);
	pdf_text_add(t, *p->delegation != '\0' ? p->delegation : p->party,
	    PDF_BOLD);
	if (continued)
		pdf_text_add(t, " (continued)", PDF_ITALIC | PDF_GREY);
	h = pdf_text_height(t);
	if (draw) {
		pdf_text_draw(l->pdf, t, LOP_MARGIN, y);
		pdf_line(l->pdf, LOP_MARGIN, y + h + 1.5,
		    LOP_MARGIN + LOP_TEXTW, y + h + 1.5, 0.4, 0.6);
	}
	pdf_text_free(t);
	return (h + 2);
}

/* The language a country writes its people's names in, where it decides
 * how their Han characters look; NULL for the others (Chinese). */
static const char *
lop_language(const struct people_person *p)
{
	static const char *const langs[][2] = { { "JP", "ja" }, { "KR", "ko" },
		{ "KP", "ko" }, { "TW", "zh-tw" }, { "HK", "zh-hk" },
		{ "MO", "zh-hk" } };
	size_t			 i;

	if (strcmp(p->kind, "country") != 0)
		return (NULL);
	for (i = 0; i < sizeof langs / sizeof langs[0]; i++)
		if (strcasecmp(p->party, langs[i][0]) == 0)
			return (langs[i][1]);
	return (NULL);
}

/* A person: on the left the honorific and the name (its Latin form beside
 * it), "Head of delegation" under it for the head; on the right the title
 * and the e-mail address. */
static double
lop_person(struct lop *l, const struct people_person *p, double y, int draw)
{
	struct pdf_text *name, *info;
	double		 hl, hr;
	int		 lines = 0;

	name = pdf_text(l->pdf, l->body, LOP_NAMEW - LOP_INDENT, PDF_LEFT);
	info = pdf_text(l->pdf, l->body, LOP_INFOW, PDF_LEFT);
	if (name == NULL || info == NULL) {
		pdf_text_free(name);
		pdf_text_free(info);
		return (0);
	}
	pdf_text_language(name, lop_language(p));
	pdf_text_language(info, lop_language(p));
	if (*p->honorific != '\0') {
		pdf_text_add(name, p->honorific, 0);
		pdf_text_add(name, " ", 0);
	}
	pdf_text_add(name, p->name, PDF_BOLD);
	if (*p->latin != '\0' && strcmp(p->latin, p->name) != 0) {
		pdf_text_add(name, " (", PDF_GREY);
		pdf_text_add(name, p->latin, PDF_GREY);
		pdf_text_add(name, ")", PDF_GREY);
	}
	if (strcmp(p->role, "head") == 0)
		pdf_text_add(name, "\nHead of delegation",
		    PDF_ITALIC | PDF_GREY | PDF_SMALL);
	if (*p->title != '\0') {
		pdf_text_add(info, p->title, 0);
		lines++;
	}
	if (!l->no_email && *p->email != '\0') {
		if (lines > 0)
			pdf_text_add(info, "\n", 0);
		pdf_text_add(info, p->email, PDF_GREY);
	}
	hl = pdf_text_height(name);
	hr = pdf_text_height(info);
	if (draw) {
		pdf_text_draw(l->pdf, name, LOP_MARGIN + LOP_INDENT, y);
		pdf_text_draw(l->pdf, info, LOP_INFOX, y);
	}
	pdf_text_free(name);
	pdf_text_free(info);
	return (hl > hr ? hl : hr);
}

/* A block measured (its height), or drawn at y. */
static double
lop_block(struct lop *l, const struct lop_block *b, double y, int draw)
{
	const struct people_person *p = &l->pp->p[b->i];

	switch (b->kind) {
	case LOP_OPENING:
		return (lop_opening(l, y, draw));
	case LOP_SECTION:
		return (lop_section(l, p, y, draw));
	case LOP_DELEGATION:
		return (lop_delegation(l, p, y, 0, draw));
	case LOP_PERSON:
		break;
	}
	return (lop_person(l, p, y, draw));
}

static void
lop_add(struct lop *l, enum lop_kind kind, size_t i, double gap, int keep)
{
	struct lop_block *b = &l->b[l->nb++];

	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->i = i;
	b->gap = gap;
	b->keep = keep;
}

/* The blocks of the document, in order: the opening, then for each
 * person the headings that start before them, then them. */
static int
lop_blocks(struct lop *l)
{
	const struct people_person *p, *prev;
	size_t			    i;

	/* at most an opening, and three blocks a person */
	if ((l->b = calloc(3 * l->pp->n + 1, sizeof *l->b)) == NULL) {
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	lop_add(l, LOP_OPENING, 0, 0, 0);
	for (i = 0; i < l->pp->n; i++) {
		p = &l->pp->p[i];
		prev = i > 0 ? &l->pp->p[i - 1] : NULL;
		if (prev == NULL || strcmp(prev->kind, p->kind) != 0)
			lop_add(l, LOP_SECTION, i, LOP_GAP_SECTION, 1);
		if (prev == NULL || strcmp(prev->party, p->party) != 0 ||
		    strcmp(prev->kind, p->kind) != 0)
			lop_add(l, LOP_DELEGATION, i,
			    l->b[l->nb - 1].kind == LOP_SECTION ?
				8 :
				LOP_GAP_DELEG,
			    1);
		lop_add(l, LOP_PERSON, i,
		    l->b[l->nb - 1].kind == LOP_DELEGATION ? 5 : LOP_GAP_PERSON,
		    0);
	}
	return (0);
}

/* Measure every block and give it its page and place. A block that does
 * not fit under the last goes on a new page, with the headings it is
 * kept with; a person who continues a delegation there has its name
 * above them again. */
static void
lop_paginate(struct lop *l)
{
	struct lop_block *b;
	size_t		  i, j;
	double		  y = LOP_TOP1, need, gap;
	int		  page = 1, empty = 1;

	for (i = 0; i < l->nb; i++)
		l->b[i].h = lop_block(l, &l->b[i], 0, 0);
	for (i = 0; i < l->nb; i++) {
		b = &l->b[i];
		gap = empty ? 0 : b->gap;
		need = gap + b->h;
		for (j = i; j + 1 < l->nb && l->b[j].keep; j++)
			need += l->b[j + 1].gap + l->b[j + 1].h;
		if (!empty && y + need > LOP_BOTTOM) {
			page++;
			y = LOP_TOP;
			gap = 0;
			if (b->kind == LOP_PERSON && i > 0 &&
			    l->b[i - 1].kind == LOP_PERSON) {
				b->continued = 1;
				y += lop_delegation(l, &l->pp->p[b->i], y, 1,
					 0) +
				    5;
			}
		}
		b->page = page;
		b->y = y + gap;
		y = b->y + b->h;
		empty = 0;
	}
	l->npages = page;
}

/* The running header (from the second page) and the page's number. */
static void
lop_furniture(struct lop *l, int page)
{
	struct pdf_text *t;
	char		 s[64];
	double		 h;

	if (page > 1) {
		if ((t = pdf_text(l->pdf, l->small, LOP_TEXTW * 0.62,
			 PDF_LEFT)) != NULL) {
			pdf_text_add(t, l->pp->event.title, PDF_GREY);
			h = pdf_text_height(t);
			pdf_text_draw(l->pdf, t, LOP_MARGIN, LOP_RULE - 3 - h);
			pdf_text_free(t);
		}
		if ((t = pdf_text(l->pdf, l->small, LOP_TEXTW * 0.36,
			 PDF_RIGHT)) != NULL) {
			pdf_text_add(t, l->title, PDF_GREY);
			h = pdf_text_height(t);
			pdf_text_draw(l->pdf, t,
			    LOP_MARGIN + LOP_TEXTW - LOP_TEXTW * 0.36,
			    LOP_RULE - 3 - h);
			pdf_text_free(t);
		}
		pdf_line(l->pdf, LOP_MARGIN, LOP_RULE, LOP_MARGIN + LOP_TEXTW,
		    LOP_RULE, 0.5, 0.5);
	}
	snprintf(s, sizeof s, "page %d of %d", page, l->npages);
	lop_para(l, l->small, LOP_MARGIN, LOP_FOOT, LOP_TEXTW, PDF_CENTER, s,
	    PDF_GREY, 1);
}

/* Draw the blocks where lop_paginate put them, page by page. */
static void
lop_draw(struct lop *l)
{
	struct lop_block *b;
	size_t		  i;
	int		  page = 1;

	for (i = 0; i < l->nb; i++) {
		b = &l->b[i];
		if (b->page != page) {
			lop_furniture(l, page);
			pdf_page(l->pdf);
			page = b->page;
		}
		if (b->continued)
			lop_delegation(l, &l->pp->p[b->i], LOP_TOP, 1, 1);
		lop_block(l, b, b->y, 1);
	}
	lop_furniture(l, page);
}

/*
 * The list of participants of pp at path: title is the list's (NULL:
 * "List of participants"); no_email leaves the addresses out. 0, or -1
 * with a message.
 */
int
lop_render(const struct people *pp, const char *title, int no_email,
    const char *path)
{
	struct lop l;
	char	  *doctitle;
	int	   rv = -1;

	memset(&l, 0, sizeof l);
	l.pp = pp;
	l.title = title != NULL ? title : LOP_TITLE;
	l.no_email = no_email;
	if (asprintf(&doctitle, "%s \xe2\x80\x94 %s", l.title,
		pp->event.title != NULL ? pp->event.title : "") == -1) {
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	l.big = pdf_font(LOP_FAMILY, 16);
	l.head = pdf_font(LOP_FAMILY, 13);
	l.deleg = pdf_font(LOP_FAMILY, 11);
	l.body = pdf_font(LOP_FAMILY, 9.5);
	l.small = pdf_font(LOP_FAMILY, 8);
	if (l.big == NULL || l.head == NULL || l.deleg == NULL ||
	    l.body == NULL || l.small == NULL) {
		fprintf(stderr, "roster: out of memory\n");
		goto out;
	}
	if (lop_blocks(&l) == -1)
		goto out;
	if ((l.pdf = pdf_open(path, LOP_WIDTH, LOP_HEIGHT, doctitle)) == NULL)
		goto out;
	lop_paginate(&l);
	lop_draw(&l);
	rv = pdf_close(l.pdf);
out:
	pdf_font_free(l.big);
	pdf_font_free(l.head);
	pdf_font_free(l.deleg);
	pdf_font_free(l.body);
	pdf_font_free(l.small);
	free(l.b);
	free(doctitle);
	return (rv);
}

/*
 * export.c's writer for PDF: the list of participants at path from the
 * export's CSV, with the event (event= among the export's arguments, else
 * the session's USE) asked of the server. 0, or -1 with a message.
 */
int
lop_write(struct roster *r, FILE *csv, const char *path, const char *what)
{
	struct people pp;
	const char   *event = NULL;
	int	      i, rv = -1;

	for (i = 1; i < r->argc; i++)
		if (strncmp(r->argv[i], "event=", 6) == 0)
			event = r->argv[i] + 6;
	people_init(&pp);
	if (people_read(&pp, csv) == 0 &&
	    people_event(r, event, &pp) == ROSTER_EXIT_OK)
		rv = lop_render(&pp, r->title, r->no_email, path);
	people_free(&pp);
	return (rv);
}
