/*
 * pdf.c -- what the printed documents (the list of participants, the
 * badges) draw with: a PDF file of pages of a given size (cairo), and
 * paragraphs of text laid out to a width (pango), measured before they are
 * placed. Fonts are asked for by family ("Noto Sans"), never by file:
 * fontconfig finds, for each script a name is written in, a font that
 * carries it, and cairo embeds the subsets used, with the text, so that a
 * reader can search and copy it. The rest of the client sees no cairo or
 * pango type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "roster.h"

struct pdf {
	cairo_surface_t *surface;
	cairo_t		*cr;
	PangoFontMap	*fontmap;
	PangoContext	*context;
	char		*path;
};

struct pdf_font {
	PangoFontDescription *desc;
};

struct pdf_text {
	PangoLayout   *layout;
	PangoAttrList *attrs;
	GString	      *s;
	const char    *lang;  /* pdf_text_language */
	int	       dirty; /* s or attrs changed since the layout had them */
};

/* A PDF file at path of pages width × height points, with its title
 * in the document's properties. NULL with a message. */
struct pdf *
pdf_open(const char *path, double width, double height, const char *title)
{
	cairo_font_options_t *fo;
	struct pdf	     *pdf;

	if ((pdf = calloc(1, sizeof *pdf)) == NULL ||
	    (pdf->path = strdup(path)) == NULL) {
		free(pdf);
		fprintf(stderr, "roster: out of memory\n");
		return (NULL);
	}
	pdf->surface = cairo_pdf_surface_create(path, width, height);
	if (cairo_surface_status(pdf->surface) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "roster: %s: %s\n", path,
		    cairo_status_to_string(cairo_surface_status(pdf->surface)));
		cairo_surface_destroy(pdf->surface);
		free(pdf->path);
		free(pdf);
		return (NULL);
	}
	cairo_pdf_surface_set_metadata(pdf->surface, CAIRO_PDF_METADATA_TITLE,
	    title);
	cairo_pdf_surface_set_metadata(pdf->surface, CAIRO_PDF_METADATA_CREATOR,
	    "roster");
	pdf->cr = cairo_create(pdf->surface);

	/* A font map of our own, freed at the end; points as units, and
	 * neither hinting nor glyphs put on whole points (which would space
	 * letters unevenly), so that what is measured is what is drawn. */
	pdf->fontmap = pango_cairo_font_map_new();
	pdf->context = pango_font_map_create_context(pdf->fontmap);
	pango_cairo_context_set_resolution(pdf->context, 72);
	pango_context_set_round_glyph_positions(pdf->context, FALSE);
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(pdf->context, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_update_context(pdf->cr, pdf->context);
	return (pdf);
}

/* Finish the file and free pdf. 0, or -1 with a message when the file
 * could not be written whole. */
int
pdf_close(struct pdf *pdf)
{
	cairo_status_t st;

	if (pdf == NULL)
		return (0);
	g_object_unref(pdf->context);
	g_object_unref(pdf->fontmap);
	cairo_destroy(pdf->cr);
	cairo_surface_finish(pdf->surface);
	st = cairo_surface_status(pdf->surface);
	cairo_surface_destroy(pdf->surface);
	if (st != CAIRO_STATUS_SUCCESS)
		fprintf(stderr, "roster: %s: %s\n", pdf->path,
		    cairo_status_to_string(st));
	free(pdf->path);
	free(pdf);
	return (st == CAIRO_STATUS_SUCCESS ? 0 : -1);
}

/* End the page; what is drawn next goes on a new one. */
void
pdf_page(struct pdf *pdf)
{
	cairo_show_page(pdf->cr);
}

/* A straight line from (x0, y0) to (x1, y1), width points wide, in a
 * grey (0 black, 1 white). */
void
pdf_line(struct pdf *pdf, double x0, double y0, double x1, double y1,
    double width, double grey)
{
	cairo_save(pdf->cr);
	cairo_set_source_rgb(pdf->cr, grey, grey, grey);
	cairo_set_line_width(pdf->cr, width);
	cairo_move_to(pdf->cr, x0, y0);
	cairo_line_to(pdf->cr, x1, y1);
	cairo_stroke(pdf->cr);
	cairo_restore(pdf->cr);
}

/* A font: a family (fontconfig falls back, script by script, to fonts
 * that have the glyphs) at size points. */
struct pdf_font *
pdf_font(const char *family, double size)
{
	struct pdf_font *f;

	if ((f = calloc(1, sizeof *f)) == NULL)
		return (NULL);
	f->desc = pango_font_description_new();
	pango_font_description_set_family(f->desc, family);
	pango_font_description_set_size(f->desc, size * PANGO_SCALE);
	return (f);
}

void
pdf_font_free(struct pdf_font *f)
{
	if (f == NULL)
		return;
	pango_font_description_free(f->desc);
	free(f);
}

/*
 * An empty paragraph in font, width points wide (lines broken between
 * words, or inside a word longer than the width), aligned as align says
 * (PDF_LEFT, PDF_CENTER, PDF_RIGHT). Its direction is the document's
 * (left to right); a run of Arabic or Hebrew in it is written right to
 * left all the same. NULL when out of memory.
 */
struct pdf_text *
pdf_text(struct pdf *pdf, const struct pdf_font *font, double width, int align)
{
	struct pdf_text *t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return (NULL);
	t->layout = pango_layout_new(pdf->context);
	t->attrs = pango_attr_list_new();
	t->s = g_string_new(NULL);
	pango_layout_set_font_description(t->layout, font->desc);
	pango_layout_set_width(t->layout, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(t->layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_auto_dir(t->layout, FALSE);
	pango_layout_set_alignment(t->layout,
	    align == PDF_CENTER	   ? PANGO_ALIGN_CENTER :
		align == PDF_RIGHT ? PANGO_ALIGN_RIGHT :
				     PANGO_ALIGN_LEFT);
	return (t);
}

void
pdf_text_free(struct pdf_text *t)
{
	if (t == NULL)
		return;
	g_object_unref(t->layout);
	pango_attr_list_unref(t->attrs);
	g_string_free(t->s, TRUE);
	free(t);
}

/*
 * The language of the text added after this (a BCP 47 tag: "ja", "ko",
 * "zh-tw"), for its Han characters, whose glyphs differ between Chinese,
 * Japanese and Korean; NULL: as the text says (below).
 */
void
pdf_text_language(struct pdf_text *t, const char *lang)
{
	t->lang = lang;
}

/* The language whose glyphs a run of text wants: Japanese when it has
 * kana, Korean when it has Hangul; else, when it has Han characters, the
 * one pdf_text_language gave, or Chinese (simplified); else NULL (the
 * default: fontconfig's choice for each script). */
static const char *
pdf_language(const struct pdf_text *t, const char *s, size_t len)
{
	const char *p, *end = s + len;
	int	    han = 0;

	for (p = s; p < end; p = g_utf8_next_char(p))
		switch (g_unichar_get_script(g_utf8_get_char(p))) {
		case G_UNICODE_SCRIPT_HIRAGANA:
		case G_UNICODE_SCRIPT_KATAKANA:
			return ("ja");
		case G_UNICODE_SCRIPT_HANGUL:
			return ("ko");
		case G_UNICODE_SCRIPT_HAN:
			han = 1;
			break;
		default:
			break;
		}
	if (han)
		return (t->lang != NULL ? t->lang : "zh-cn");
	return (NULL);
}

static void
pdf_text_attr(struct pdf_text *t, PangoAttribute *a, size_t start, size_t end)
{
	a->start_index = start;
	a->end_index = end;
	pango_attr_list_insert(t->attrs, a);
}

/* Add s (UTF-8; an invalid byte is shown as U+FFFD) to the paragraph,
 * in the style of flags: PDF_BOLD, PDF_ITALIC, PDF_GREY, PDF_SMALL. */
void
pdf_text_add(struct pdf_text *t, const char *s, int flags)
{
	const char *lang;
	char	   *valid;
	size_t	    start = t->s->len, end;

	valid = g_utf8_make_valid(s, -1);
	g_string_append(t->s, valid);
	end = t->s->len;
	if (flags & PDF_BOLD)
		pdf_text_attr(t, pango_attr_weight_new(PANGO_WEIGHT_BOLD),
		    start, end);
	if (flags & PDF_ITALIC)
		pdf_text_attr(t, pango_attr_style_new(PANGO_STYLE_ITALIC),
		    start, end);
	if (flags & PDF_GREY)
		pdf_text_attr(t,
		    pango_attr_foreground_new(0x5000, 0x5000, 0x5000), start,
		    end);
	if (flags & PDF_SMALL)
		pdf_text_attr(t, pango_attr_scale_new(0.85), start, end);
	if ((lang = pdf_language(t, valid, end - start)) != NULL)
		pdf_text_attr(t,
		    pango_attr_language_new(pango_language_from_string(lang)),
		    start, end);
	g_free(valid);
	t->dirty = 1;
}

static PangoLayout *
pdf_text_layout(struct pdf_text *t)
{
	if (t->dirty) {
		pango_layout_set_text(t->layout, t->s->str, (int)t->s->len);
		pango_layout_set_attributes(t->layout, t->attrs);
		t->dirty = 0;
	}
	return (t->layout);
}

/* The paragraph's height in points, as it will be drawn. */
double
pdf_text_height(struct pdf_text *t)
{
	int w, h;

	if (t->s->len == 0)
		return (0);
	pango_layout_get_size(pdf_text_layout(t), &w, &h);
	return ((double)h / PANGO_SCALE);
}

/* The width of its widest line, in points. */
double
pdf_text_width(struct pdf_text *t)
{
	PangoRectangle logical;

	pango_layout_get_extents(pdf_text_layout(t), NULL, &logical);
	return ((double)logical.width / PANGO_SCALE);
}

/* Draw the paragraph with its top left corner at (x, y). */
void
pdf_text_draw(struct pdf *pdf, struct pdf_text *t, double x, double y)
{
	if (t->s->len == 0)
		return;
	cairo_save(pdf->cr);
	cairo_set_source_rgb(pdf->cr, 0, 0, 0);
	cairo_move_to(pdf->cr, x, y);
	pango_cairo_show_layout(pdf->cr, pdf_text_layout(t));
	cairo_restore(pdf->cr);
}
