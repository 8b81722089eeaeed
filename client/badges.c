/*
 * badges.c -- roster badges [party=CODE] [id=N ...] [--layout a6|a4-8]
 * -o FILE.pdf: a badge for each participant who has not declined, as a
 * PDF (cairo): one A6 page each, or eight 105 x 74 mm cards to an A4
 * sheet with cut marks. A badge shows the meeting (its title, city and
 * days), the person's name as large as it fits in two lines (shrunk,
 * never cut), its Latin form under it when the name is written in another
 * script, their title and delegation, a band in the colour of their role
 * with the role's word, and a QR code of the badge code (libqrencode),
 * the code printed under it in two groups of five to be read out.
 *
 * Text goes through pango in the family "Noto Sans": fontconfig supplies
 * the Noto font of each script Noto Sans itself lacks (Arabic, set right
 * to left, CJK, Devanagari). The QR code is drawn as filled rectangles,
 * so it stays sharp at any resolution, with its quiet zone of 4 modules
 * kept clear.
 *
 * badges_write is a function from records to a file (no network);
 * badges_run gets the records through people.c and writes the file as
 * export.c does: beside itself, renamed into place on success.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "roster.h"

#define BADGES_PT(mm) ((mm)*72.0 / 25.4) /* millimetres to points */
#define BADGES_FONT   PDF_FAMILY	 /* Noto Sans and each script's Noto */
#define BADGES_MONO   "Noto Sans Mono"
#define BADGES_MIN_PT 4.0 /* the least size a block is shrunk to */
#define BADGES_ONE    0.8 /* one line if it fits at this part of the size */
#define BADGES_QUIET  4	  /* modules of white around the QR code */
#define BADGES_GROUP  5	  /* characters of the code read out together */
#define BADGES_RGB(x)                                                  \
	{                                                              \
		((x) >> 16 & 0xff) / 255.0, ((x) >> 8 & 0xff) / 255.0, \
		    ((x)&0xff) / 255.0                                 \
	}

/*
 * The roles: the band's colour and the word on it, white on the dark
 * colours and black on orange, each pair above 4.5:1 in contrast.
 */
struct badges_role {
	const char *role; /* the export's */
	const char *word; /* on the band */
	double	    band[3];
	double	    ink[3];
};

static const struct badges_role badges_roles[] = {
	{ "head", "HEAD OF DELEGATION", BADGES_RGB(0xa31621),
	    BADGES_RGB(0xffffff) },
	{ "member", "MEMBER", BADGES_RGB(0x1f4e9e), BADGES_RGB(0xffffff) },
	{ "adviser", "ADVISER", BADGES_RGB(0x1e7b3a), BADGES_RGB(0xffffff) },
	{ "observer", "OBSERVER", BADGES_RGB(0x5f6368), BADGES_RGB(0xffffff) },
	{ "staff", "STAFF", BADGES_RGB(0xf28c00), BADGES_RGB(0x000000) },
};
/* A role this roster does not know: its own word on light grey. */
static const struct badges_role badges_other = { NULL, NULL,
	BADGES_RGB(0xd9d9d9), BADGES_RGB(0x000000) };
static const double		badges_black[3] = BADGES_RGB(0x000000);
static const double		badges_grey[3] = BADGES_RGB(0x4d4d4d);

/* A block of text on a badge: its box (mm from the badge's top left),
 * its font, the largest size and at most how many lines. */
struct badges_block {
	double	    x, y, w, h;
	const char *family;
	PangoWeight weight;
	double	    size; /* pt */
	int	    lines;
};

/* One badge's design, in mm. */
struct badges_card {
	double		    w, h;
	struct badges_block title;	/* the meeting's */
	struct badges_block place;	/* its city and days */
	struct badges_block name;	/* honorific and name */
	struct badges_block latin;	/* the name in Latin letters */
	struct badges_block job;	/* the person's title */
	struct badges_block delegation; /* the party's name */
	struct badges_block code;	/* the badge code, grouped */
	struct badges_block role;	/* the role's word, in the band */
	double		    rule_y;	/* a line under the meeting */
	double		    qr_x, qr_y, qr_size; /* the symbol, no quiet */
	double		    band_x, band_y, band_w, band_h;
};

/* A6, portrait: everything centred, one above the other. */
static const struct badges_card badges_a6 = {
	.w = 105,
	.h = 148,
	.title = { 6, 6, 93, 13, BADGES_FONT, PANGO_WEIGHT_BOLD, 13, 2 },
	.place = { 6, 19, 93, 5, BADGES_FONT, PANGO_WEIGHT_NORMAL, 8.5, 1 },
	.rule_y = 26,
	.name = { 6, 28, 93, 24, BADGES_FONT, PANGO_WEIGHT_BOLD, 28, 2 },
	.latin = { 6, 52, 93, 8, BADGES_FONT, PANGO_WEIGHT_NORMAL, 12, 2 },
	.job = { 6, 61, 93, 9, BADGES_FONT, PANGO_WEIGHT_NORMAL, 10, 2 },
	.delegation = { 6, 71, 93, 11, BADGES_FONT, PANGO_WEIGHT_BOLD, 14, 2 },
	.qr_x = 39,
	.qr_y = 88,
	.qr_size = 27,
	.code = { 6, 120.5, 93, 6, BADGES_MONO, PANGO_WEIGHT_BOLD, 13, 1 },
	.band_x = 6,
	.band_y = 129,
	.band_w = 93,
	.band_h = 13,
	.role = { 6, 129, 93, 13, BADGES_FONT, PANGO_WEIGHT_BOLD, 16, 1 },
};

/* A card of an A4 sheet, landscape: the person on the left, the QR code
 * on the right. */
static const struct badges_card badges_card8 = {
	.w = 105,
	.h = 74,
	.title = { 5, 4.5, 95, 7, BADGES_FONT, PANGO_WEIGHT_BOLD, 10, 2 },
	.place = { 5, 11.5, 95, 4, BADGES_FONT, PANGO_WEIGHT_NORMAL, 7, 1 },
	.rule_y = 16.5,
	.name = { 5, 18, 66, 16, BADGES_FONT, PANGO_WEIGHT_BOLD, 20, 2 },
	.latin = { 5, 34, 66, 5.5, BADGES_FONT, PANGO_WEIGHT_NORMAL, 9, 2 },
	.job = { 5, 40, 66, 6, BADGES_FONT, PANGO_WEIGHT_NORMAL, 8, 2 },
	.delegation = { 5, 46.5, 66, 9.5, BADGES_FONT, PANGO_WEIGHT_BOLD, 11,
	    2 },
	.qr_x = 77.5,
	.qr_y = 22,
	.qr_size = 21,
	.code = { 72, 47.5, 31, 5, BADGES_MONO, PANGO_WEIGHT_BOLD, 9, 1 },
	.band_x = 5,
	.band_y = 58,
	.band_w = 95,
	.band_h = 11,
	.role = { 5, 58, 95, 11, BADGES_FONT, PANGO_WEIGHT_BOLD, 12, 1 },
};

/* A sheet: its size (mm), the grid of cards on it, whether it has cut
 * marks. In enum badges_layout's order. */
struct badges_sheet {
	const char		 *name; /* --layout */
	double			  w, h;
	int			  cols, rows;
	double			  x0, y0; /* the grid's top left */
	int			  marks;
	const struct badges_card *card;
};

static const struct badges_sheet badges_sheets[] = {
	[BADGES_A6] = { "a6", 105, 148, 1, 1, 0, 0, 0, &badges_a6 },
	[BADGES_A4_8] = { "a4-8", 210, 297, 2, 4, 0, 0.5, 1, &badges_card8 },
};

/* The language of a name written in Han characters, by the party's code,
 * so that fontconfig takes the CJK font of that language's glyph forms. */
static const struct {
	const char *party;
	const char *lang;
} badges_langs[] = {
	{ "CN", "zh-cn" },
	{ "SG", "zh-sg" },
	{ "TW", "zh-tw" },
	{ "HK", "zh-hk" },
	{ "MO", "zh-mo" },
	{ "JP", "ja" },
	{ "KR", "ko" },
	{ "KP", "ko" },
};

static const char *const badges_months[] = { "January", "February", "March",
	"April", "May", "June", "July", "August", "September", "October",
	"November", "December" };

/* The role's row: its colours and word. */
static const struct badges_role *
badges_role(const char *role)
{
	size_t i;

	for (i = 0; i < sizeof badges_roles / sizeof badges_roles[0]; i++)
		if (strcmp(badges_roles[i].role, role) == 0)
			return (&badges_roles[i]);
	return (&badges_other);
}

/* The language a party's names are most likely in, or NULL. */
static const char *
badges_lang(const char *party)
{
	size_t i;

	for (i = 0; i < sizeof badges_langs / sizeof badges_langs[0]; i++)
		if (strcmp(badges_langs[i].party, party) == 0)
			return (badges_langs[i].lang);
	return (NULL);
}

/* "Ankara, 26–28 November 2025" from the event's city and days
 * (YYYY-MM-DD), shortened when they share the month or the year. */
static void
badges_place(char *buf, size_t len, const struct people_event *ev)
{
	const char *city = ev->city != NULL ? ev->city : "";
	const char *sep = *city != '\0' ? ", " : "";
	const char *dash = "\xe2\x80\x93"; /* an en dash */
	int	    y1, m1, d1, y2, m2, d2;

	if (ev->starts == NULL ||
	    sscanf(ev->starts, "%d-%d-%d", &y1, &m1, &d1) != 3 || m1 < 1 ||
	    m1 > 12) {
		snprintf(buf, len, "%s", city);
		return;
	}
	if (ev->ends == NULL ||
	    sscanf(ev->ends, "%d-%d-%d", &y2, &m2, &d2) != 3 || m2 < 1 ||
	    m2 > 12 || (y1 == y2 && m1 == m2 && d1 == d2))
		snprintf(buf, len, "%s%s%d %s %d", city, sep, d1,
		    badges_months[m1 - 1], y1);
	else if (y1 == y2 && m1 == m2)
		snprintf(buf, len, "%s%s%d%s%d %s %d", city, sep, d1, dash, d2,
		    badges_months[m1 - 1], y1);
	else if (y1 == y2)
		snprintf(buf, len, "%s%s%d %s %s %d %s %d", city, sep, d1,
		    badges_months[m1 - 1], dash, d2, badges_months[m2 - 1], y1);
	else
		snprintf(buf, len, "%s%s%d %s %d %s %d %s %d", city, sep, d1,
		    badges_months[m1 - 1], y1, dash, d2, badges_months[m2 - 1],
		    y2);
}

/* Whether the layout, at size pt, fits block b in lines lines. */
static int
badges_fits(PangoLayout *l, PangoFontDescription *fd,
    const struct badges_block *b, double size, int lines)
{
	PangoRectangle log;

	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	pango_layout_set_font_description(l, fd);
	pango_layout_get_extents(l, NULL, &log);
	return (pango_layout_get_line_count(l) <= lines &&
	    log.width <= BADGES_PT(b->w) * PANGO_SCALE &&
	    log.height <= BADGES_PT(b->h) * PANGO_SCALE);
}

/*
 * Text (after prefix, smaller and not bold, when there is one; in the
 * language lang when not NULL) in block b, centred both ways, in ink, laid
 * out in the document's pango context pc: at the largest size that fits
 * its lines (one line while that keeps BADGES_ONE of the size that two
 * would allow), broken only between words. What fits nowhere is shrunk
 * past BADGES_MIN_PT in as many lines as the box holds: never cut, never
 * ellipsized.
 */
static void
badges_text(cairo_t *cr, PangoContext *pc, const struct badges_block *b,
    const char *prefix, const char *text, const char *lang, const double ink[3])
{
	PangoLayout	     *l;
	PangoFontDescription *fd;
	PangoAttrList	     *attrs;
	PangoAttribute	     *a;
	PangoRectangle	      log;
	char		     *s = NULL;
	size_t		      n;
	double		      one, size;
	int		      lines = b->lines;

	if (*text == '\0')
		return;
	pango_cairo_update_context(cr, pc);
	l = pango_layout_new(pc);
	fd = pango_font_description_new();
	pango_font_description_set_family(fd, b->family);
	pango_font_description_set_weight(fd, b->weight);
	pango_layout_set_width(l, BADGES_PT(b->w) * PANGO_SCALE);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD);
	pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
	attrs = pango_attr_list_new();
	if (lang != NULL)
		pango_attr_list_insert(attrs,
		    pango_attr_language_new(pango_language_from_string(lang)));
	if (prefix != NULL && *prefix != '\0' &&
	    asprintf(&s, "%s %s", prefix, text) != -1) {
		n = strlen(prefix);
		a = pango_attr_scale_new(0.6);
		a->end_index = n;
		pango_attr_list_insert(attrs, a);
		a = pango_attr_weight_new(PANGO_WEIGHT_NORMAL);
		a->end_index = n;
		pango_attr_list_insert(attrs, a);
		pango_layout_set_text(l, s, -1);
		free(s);
	} else
		pango_layout_set_text(l, text, -1);
	pango_layout_set_attributes(l, attrs);
	pango_attr_list_unref(attrs);

	for (one = b->size; one > BADGES_MIN_PT; one -= 0.5)
		if (badges_fits(l, fd, b, one, 1))
			break;
	size = one;
	if (lines > 1 && one < b->size * BADGES_ONE)
		for (size = b->size; size > one; size -= 0.5)
			if (badges_fits(l, fd, b, size, lines))
				break;
	while (!badges_fits(l, fd, b, size, lines) && size > 1) {
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
		lines = INT_MAX;
		size -= 0.5;
	}

	pango_layout_get_extents(l, NULL, &log);
	cairo_set_source_rgb(cr, ink[0], ink[1], ink[2]);
	cairo_move_to(cr, BADGES_PT(b->x),
	    BADGES_PT(b->y) +
		(BADGES_PT(b->h) - (double)log.height / PANGO_SCALE) / 2 -
		(double)log.y / PANGO_SCALE);
	pango_cairo_show_layout(cr, l);
	pango_font_description_free(fd);
	g_object_unref(l);
}

/*
 * The QR code of text (ECC level Q), its modules filling the square at
 * (x, y) of size points, each row's dark runs one rectangle, all filled
 * at once (no seams between them), on its quiet zone painted white (the
 * designs keep it clear of text). -1 when libqrencode fails.
 */
static int
badges_qr(cairo_t *cr, const char *text, double x, double y, double size)
{
	QRcode *qr;
	double	m;
	int	i, j, k, w;

	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_Q, QR_MODE_8, 1)) ==
	    NULL)
		return (-1);
	w = qr->width;
	m = size / w;
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x - BADGES_QUIET * m, y - BADGES_QUIET * m,
	    (w + 2 * BADGES_QUIET) * m, (w + 2 * BADGES_QUIET) * m);
	cairo_fill(cr);
	for (i = 0; i < w; i++)
		for (j = 0; j < w; j = k + 1) {
			for (k = j; k < w && (qr->data[i * w + k] & 1); k++)
				;
			if (k > j)
				cairo_rectangle(cr, x + j * m, y + i * m,
				    (k - j) * m, m);
		}
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_fill(cr);
	QRcode_free(qr);
	return (0);
}

/* One badge, drawn with its top left corner at the origin. -1 with a
 * message when its QR code cannot be made. */
static int
badges_card(cairo_t *cr, PangoContext *pc, const struct badges_card *c,
    const struct people_event *ev, const char *place,
    const struct people_person *p)
{
	const struct badges_role *role = badges_role(p->role);
	struct badges_block	  name;
	char			  code[64], word[64];
	size_t			  i, j;

	badges_text(cr, pc, &c->title, NULL, ev->title, NULL, badges_black);
	badges_text(cr, pc, &c->place, NULL, place, NULL, badges_grey);
	cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
	cairo_set_line_width(cr, 0.5);
	cairo_move_to(cr, BADGES_PT(c->title.x), BADGES_PT(c->rule_y));
	cairo_line_to(cr, BADGES_PT(c->title.x + c->title.w),
	    BADGES_PT(c->rule_y));
	cairo_stroke(cr);

	/* Without a Latin form, the name has its room too. */
	name = c->name;
	if (*p->latin != '\0' && strcmp(p->latin, p->name) != 0)
		badges_text(cr, pc, &c->latin, NULL, p->latin, NULL,
		    badges_grey);
	else
		name.h = c->latin.y + c->latin.h - name.y;
	badges_text(cr, pc, &name, p->honorific, p->name, badges_lang(p->party),
	    badges_black);
	badges_text(cr, pc, &c->job, NULL, p->title, NULL, badges_black);
	badges_text(cr, pc, &c->delegation, NULL, p->delegation, NULL,
	    badges_black);

	if (*p->badge != '\0') {
		if (badges_qr(cr, p->badge, BADGES_PT(c->qr_x),
			BADGES_PT(c->qr_y), BADGES_PT(c->qr_size)) == -1) {
			fprintf(stderr, "roster: the QR code of %s: %s\n",
			    p->badge, strerror(errno));
			return (-1);
		}
		for (i = j = 0; p->badge[i] != '\0' && j + 2 < sizeof code;
		     i++) {
			if (i > 0 && i % BADGES_GROUP == 0)
				code[j++] = ' ';
			code[j++] = p->badge[i];
		}
		code[j] = '\0';
		badges_text(cr, pc, &c->code, NULL, code, NULL, badges_black);
	}

	cairo_set_source_rgb(cr, role->band[0], role->band[1], role->band[2]);
	cairo_rectangle(cr, BADGES_PT(c->band_x), BADGES_PT(c->band_y),
	    BADGES_PT(c->band_w), BADGES_PT(c->band_h));
	cairo_fill(cr);
	if (role->word == NULL) {
		for (i = 0; p->role[i] != '\0' && i + 1 < sizeof word; i++)
			word[i] = p->role[i] >= 'a' && p->role[i] <= 'z' ?
			    p->role[i] - 'a' + 'A' :
			    p->role[i];
		word[i] = '\0';
	}
	badges_text(cr, pc, &c->role, NULL,
	    role->word != NULL ? role->word : word, NULL, role->ink);
	return (0);
}

/* Whether the sheet's card at column i, row j is one of the first n. */
static int
badges_used(const struct badges_sheet *s, int i, int j, size_t n)
{
	return (i >= 0 && i < s->cols && j >= 0 && j < s->rows &&
	    (size_t)(j * s->cols + i) < n);
}

/*
 * The cut marks of a sheet holding n cards: on each line a cut follows
 * (between the cards, which tile the sheet edge to edge, so there is no
 * margin outside them), a hairline of 4 mm either way from the corners
 * of the cards there are, in the cards' blank margins.
 */
static void
badges_marks(cairo_t *cr, const struct badges_sheet *s, size_t n)
{
	const double len = 4;
	double	     x, y;
	int	     i, j;

	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 0.3);
	for (i = 0; i <= s->cols; i++)
		for (j = 0; j <= s->rows; j++) {
			if (!badges_used(s, i - 1, j - 1, n) &&
			    !badges_used(s, i, j - 1, n) &&
			    !badges_used(s, i - 1, j, n) &&
			    !badges_used(s, i, j, n))
				continue;
			x = s->x0 + i * s->card->w;
			y = s->y0 + j * s->card->h;
			if (i > 0 && i < s->cols) {
				cairo_move_to(cr, BADGES_PT(x),
				    BADGES_PT(y - len));
				cairo_line_to(cr, BADGES_PT(x),
				    BADGES_PT(y + len));
			}
			if (j > 0 && j < s->rows) {
				cairo_move_to(cr, BADGES_PT(x - len),
				    BADGES_PT(y));
				cairo_line_to(cr, BADGES_PT(x + len),
				    BADGES_PT(y));
			}
		}
	cairo_stroke(cr);
}

static cairo_status_t
badges_write_cb(void *closure, const unsigned char *data, unsigned int len)
{
	return (fwrite(data, 1, len, closure) == len ?
		CAIRO_STATUS_SUCCESS :
		CAIRO_STATUS_WRITE_ERROR);
}

/* The badges of the n people p, in their order, as a PDF written to f.
 * 0, or -1 with a message. */
int
badges_write(FILE *f, const struct people_event *ev,
    const struct people_person *const *p, size_t n, enum badges_layout layout)
{
	const struct badges_sheet *s = &badges_sheets[layout];
	cairo_surface_t		  *surface;
	cairo_status_t		   status;
	cairo_t			  *cr;
	PangoFontMap		  *fm;
	PangoContext		  *pc;
	char			   place[256];
	size_t			   i, k, per = s->cols * s->rows;
	int			   rv = 0;

	badges_place(place, sizeof place, ev);
	surface = cairo_pdf_surface_create_for_stream(badges_write_cb, f,
	    BADGES_PT(s->w), BADGES_PT(s->h));
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
	    ev->title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
	    "roster " PACKAGE_VERSION);
	cr = cairo_create(surface);
	/* A font map of our own rather than pango's default, which lives as
	 * long as the thread: freed below with all it loaded. */
	fm = pango_cairo_font_map_new();
	pc = pango_font_map_create_context(fm);
	for (i = 0; i < n && rv == 0; i++) {
		if ((k = i % per) == 0 && i > 0)
			cairo_show_page(cr);
		if (k == 0 && s->marks)
			badges_marks(cr, s, n - i);
		cairo_save(cr);
		cairo_translate(cr,
		    BADGES_PT(s->x0 + (k % s->cols) * s->card->w),
		    BADGES_PT(s->y0 + (k / s->cols) * s->card->h));
		rv = badges_card(cr, pc, s->card, ev, place, p[i]);
		cairo_restore(cr);
	}
	cairo_show_page(cr);
	g_object_unref(pc);
	g_object_unref(fm);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	if (rv == 0 &&
	    (status = cairo_surface_status(surface)) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "roster: the PDF: %s\n",
		    cairo_status_to_string(status));
		rv = -1;
	}
	cairo_surface_destroy(surface);
	return (rv);
}

/* The people of pp that ids name (all when there are none): -1 with a
 * message naming an id that is none of them. */
static int
badges_select(const struct people *pp, char **ids, size_t nids,
    const struct people_person **sel, size_t *nsel)
{
	size_t i, j;
	int    rv = 0;

	*nsel = 0;
	for (i = 0; i < pp->n; i++) {
		for (j = 0; j < nids; j++)
			if (strcmp(pp->p[i].id, ids[j]) == 0)
				break;
		if (nids == 0 || j < nids)
			sel[(*nsel)++] = &pp->p[i];
	}
	for (j = 0; j < nids; j++) {
		for (i = 0; i < pp->n; i++)
			if (strcmp(pp->p[i].id, ids[j]) == 0)
				break;
		if (i == pp->n) {
			fprintf(stderr,
			    "roster: badges: id=%s is no participant "
			    "of the selection (or has declined)\n",
			    ids[j]);
			rv = -1;
		}
	}
	return (rv);
}

int
badges_run(struct roster *r)
{
	const struct people_person **sel = NULL;
	struct people		     pp;
	struct export_file	     ef;
	enum badges_layout	     layout = BADGES_A6;
	size_t			     nsel, nids = 0;
	int			     argc = r->argc - 1, nargs = 0, i;
	int			     rv = ROSTER_EXIT_FAIL;
	char			   **argv = r->argv + 1, **args, **ids;

	if (r->layout == NULL || strcmp(r->layout, "a6") == 0)
		layout = BADGES_A6;
	else if (strcmp(r->layout, "a4-8") == 0)
		layout = BADGES_A4_8;
	else {
		fprintf(stderr, "roster: --layout: a6 or a4-8\n");
		return (ROSTER_EXIT_FAIL);
	}
	if ((r->output == NULL || strcmp(r->output, "-") == 0) &&
	    isatty(STDOUT_FILENO)) {
		fprintf(stderr,
		    "roster: badges: a PDF, not to a terminal; "
		    "give -o FILE.pdf\n");
		return (ROSTER_EXIT_FAIL);
	}
	args = calloc(argc + 1, sizeof *args);
	ids = calloc(argc + 1, sizeof *ids);
	people_init(&pp);
	if (args == NULL || ids == NULL)
		goto out;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "id=", 3) != 0) {
			args[nargs++] = argv[i];
			continue;
		}
		if (argv[i][3] == '\0' ||
		    strspn(argv[i] + 3, "0123456789") != strlen(argv[i] + 3)) {
			fprintf(stderr, "roster: %s: an id is a number\n",
			    argv[i]);
			goto out;
		}
		ids[nids++] = argv[i] + 3;
	}
	if ((rv = session_open(r, "EXPORT")) != ROSTER_EXIT_OK ||
	    (rv = people_load(r, nargs, args, &pp)) != ROSTER_EXIT_OK)
		goto out;
	if ((sel = calloc(pp.n + 1, sizeof *sel)) == NULL) {
		rv = ROSTER_EXIT_FAIL;
		goto out;
	}
	rv = ROSTER_EXIT_ERR;
	if (badges_select(&pp, ids, nids, sel, &nsel) == -1)
		goto out;
	if (nsel == 0) {
		fprintf(stderr,
		    "roster: badges: nobody to print (no participant "
		    "selected who has not declined); no file written\n");
		goto out;
	}
	rv = ROSTER_EXIT_FAIL;
	if (export_open(&ef, r->output) == -1)
		goto out;
	rv = badges_write(ef.f, &pp.event, sel, nsel, layout) == -1 ?
	    ROSTER_EXIT_FAIL :
	    ROSTER_EXIT_OK;
	if (rv == ROSTER_EXIT_OK && ef.path == NULL && fflush(stdout) == EOF)
		rv = ROSTER_EXIT_FAIL;
	rv = export_close(&ef, rv);
out:
	free(sel);
	free(ids);
	free(args);
	people_free(&pp);
	return (rv);
}
