/*
 * colmap.c -- which key a column of an import file is: the --map the user
 * gave ("First name=given,Last name=family,Country=party"), else the key's
 * own name, else a header a spreadsheet is likely to have, in English or
 * French. Headers are compared folded: letters in lower case without their
 * accents, everything but letters and digits left out, so that "E-mail",
 * "email" and "EMAIL" are one header, and "Prénom" is "prenom". The same
 * fold compares a party's name ("Türkiye", "turkiye", "TÜRKIYE").
 *
 * The headers known (folded), and the key each is:
 *
 *   given      first name, given name, forename, prénom, prénoms
 *   family     last name, surname, family name, nom, nom de famille
 *   name       name, full name, nom complet
 *   party      country, pays, delegation, délégation, organisation,
 *              organization, party
 *   email      e-mail, email, e-mail address, courriel, mail, adresse
 *              électronique
 *   title      title, titre, function, fonction, job title
 *   honorific  honorific, civilité, salutation
 *   role       role, rôle
 *   note       note, notes, remarks, comment, comments, remarque(s)
 *   kind       kind, type
 *   starts     starts, start, begins, début
 *   ends       ends, end, fin
 *   room       room, salle
 *   capacity   capacity, capacité, seats, places
 *   theme      theme, thème
 *   topic      topic, sujet
 *   position   position, order, ordre
 *   participant_name  speaker, intervenant, participant name
 *   latin      latin, name in latin letters
 *
 * A "given" column is no key: import makes name= "given family" of it and
 * the family column (family= stays the family name). A header applies only
 * to a kind that has its key. No I/O, no globals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

/* The base letter of U+00C0..U+017F, lower case; digits stand for two
 * letters (1 ae, 2 th, 3 ss, 4 ij, 5 oe) and 0 for no letter. */
static const char colmap_latin[] =
    "aaaaaa1ceeeeiiiidnooooo0ouuuuy23"			       /* C0-DF */
    "aaaaaa1ceeeeiiiidnooooo0ouuuuy2y"			       /* E0-FF */
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii44jj"   /* 100-135 */
    "kkkllllllllllnnnnnnnnnoooooo55rrrrrrssssssssttttttuuuuuu" /* -16D */
    "uuuuuuwwyyyzzzzzzs";				       /* -17F */

static const char *const colmap_pairs[] = { "", "ae", "th", "ss", "ij", "oe" };

static const struct {
	const char *header; /* folded */
	const char *key;
} colmap_known_headers[] = {
	{ "firstname", "given" },
	{ "givenname", "given" },
	{ "forename", "given" },
	{ "prenom", "given" },
	{ "prenoms", "given" },
	{ "lastname", "family" },
	{ "surname", "family" },
	{ "familyname", "family" },
	{ "nom", "family" },
	{ "nomdefamille", "family" },
	{ "name", "name" },
	{ "fullname", "name" },
	{ "nomcomplet", "name" },
	{ "country", "party" },
	{ "pays", "party" },
	{ "delegation", "party" },
	{ "organisation", "party" },
	{ "organization", "party" },
	{ "party", "party" },
	{ "email", "email" },
	{ "emailaddress", "email" },
	{ "courriel", "email" },
	{ "mail", "email" },
	{ "adresseelectronique", "email" },
	{ "title", "title" },
	{ "titre", "title" },
	{ "function", "title" },
	{ "fonction", "title" },
	{ "jobtitle", "title" },
	{ "honorific", "honorific" },
	{ "civilite", "honorific" },
	{ "salutation", "honorific" },
	{ "role", "role" },
	{ "note", "note" },
	{ "notes", "note" },
	{ "remarks", "note" },
	{ "comment", "note" },
	{ "comments", "note" },
	{ "remarque", "note" },
	{ "remarques", "note" },
	{ "kind", "kind" },
	{ "type", "kind" },
	{ "starts", "starts" },
	{ "start", "starts" },
	{ "begins", "starts" },
	{ "debut", "starts" },
	{ "ends", "ends" },
	{ "end", "ends" },
	{ "fin", "ends" },
	{ "room", "room" },
	{ "salle", "room" },
	{ "capacity", "capacity" },
	{ "capacite", "capacity" },
	{ "seats", "capacity" },
	{ "places", "capacity" },
	{ "theme", "theme" },
	{ "topic", "topic" },
	{ "sujet", "topic" },
	{ "position", "position" },
	{ "order", "position" },
	{ "ordre", "position" },
	{ "speaker", "participant_name" },
	{ "intervenant", "participant_name" },
	{ "participantname", "participant_name" },
	{ "latin", "latin" },
	{ "nameinlatinletters", "latin" },
};

/* The code point of the UTF-8 sequence at s (n bytes left), its length in
 * *len; -1 for a byte that starts no sequence of up to 3 bytes. */
static long
colmap_utf8(const unsigned char *s, size_t n, size_t *len)
{
	if (s[0] < 0x80) {
		*len = 1;
		return (s[0]);
	}
	if ((s[0] & 0xe0) == 0xc0 && n >= 2 && (s[1] & 0xc0) == 0x80) {
		*len = 2;
		return ((long)(s[0] & 0x1f) << 6 | (s[1] & 0x3f));
	}
	if ((s[0] & 0xf0) == 0xe0 && n >= 3 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		*len = 3;
		return ((long)(s[0] & 0x0f) << 12 | (long)(s[1] & 0x3f) << 6 |
		    (s[2] & 0x3f));
	}
	*len = 1;
	return (-1);
}

static void
colmap_put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	for (; n > 0; n--, s++)
		if (*o + 1 < outlen)
			out[(*o)++] = *s;
}

/*
 * s folded into out (outlen bytes, always NUL-terminated): ASCII letters
 * in lower case, Latin letters with accents (U+00C0-U+017F) as their base
 * letters, dotless and dotted i as i; every other character that is not a
 * letter or digit left out. Letters of other scripts are kept as they are.
 * Returns the length.
 */
size_t
colmap_fold(const char *s, char *out, size_t outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i = 0, n = strlen(s), len, o = 0;
	long		     cp;
	char		     ch, c;

	for (; i < n; i += len) {
		cp = colmap_utf8(u + i, n - i, &len);
		if (cp >= 'A' && cp <= 'Z') {
			ch = (char)(cp - 'A' + 'a');
			colmap_put(out, outlen, &o, &ch, 1);
		} else if ((cp >= 'a' && cp <= 'z') ||
		    (cp >= '0' && cp <= '9')) {
			ch = (char)cp;
			colmap_put(out, outlen, &o, &ch, 1);
		} else if (cp >= 0xc0 && cp <= 0x17f) {
			c = colmap_latin[cp - 0xc0];
			if (c >= '0' && c <= '5')
				colmap_put(out, outlen, &o,
				    colmap_pairs[c - '0'],
				    strlen(colmap_pairs[c - '0']));
			else
				colmap_put(out, outlen, &o, &c, 1);
		} else if (cp > 0x17f && cp != 0x2018 && cp != 0x2019 &&
		    !(cp >= 0x2000 && cp <= 0x206f) && cp != 0xfeff)
			colmap_put(out, outlen, &o, s + i, len);
		/* else: ASCII punctuation, spaces, NBSP, quotes: left out */
	}
	if (outlen > 0)
		out[o] = '\0';
	return (o);
}

/* s without the white space (ASCII, and U+00A0) at its ends, in place. */
char *
colmap_trim(char *s)
{
	size_t n, start = 0;

	n = strlen(s);
	for (;;) {
		if (n > 0 &&
		    (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
			s[n - 1] == '\n'))
			n--;
		else if (n > 1 && (unsigned char)s[n - 2] == 0xc2 &&
		    (unsigned char)s[n - 1] == 0xa0)
			n -= 2;
		else
			break;
	}
	s[n] = '\0';
	for (;;) {
		if (s[start] == ' ' || s[start] == '\t' || s[start] == '\r' ||
		    s[start] == '\n')
			start++;
		else if ((unsigned char)s[start] == 0xc2 &&
		    (unsigned char)s[start + 1] == 0xa0)
			start += 2;
		else
			break;
	}
	if (start > 0)
		memmove(s, s + start, n - start + 1);
	return (s);
}

/* The key of a header a spreadsheet is likely to have, or NULL. */
const char *
colmap_known(const char *header)
{
	char   f[256];
	size_t i;

	colmap_fold(header, f, sizeof f);
	for (i = 0;
	     i < sizeof colmap_known_headers / sizeof colmap_known_headers[0];
	     i++)
		if (strcmp(f, colmap_known_headers[i].header) == 0)
			return (colmap_known_headers[i].key);
	return (NULL);
}

/* 1 when header and key name one column: equal when folded. */
int
colmap_same(const char *header, const char *key)
{
	char a[256], b[256];

	colmap_fold(header, a, sizeof a);
	colmap_fold(key, b, sizeof b);
	return (*a != '\0' && strcmp(a, b) == 0);
}

void
colmap_free(struct colmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->from[i]);
		free(m->to[i]);
	}
	free(m->from);
	free(m->to);
	memset(m, 0, sizeof *m);
}

static int
colmap_valid_key(const char *k)
{
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
			*k == '_'))
			return (0);
	return (1);
}

/*
 * Add the entries of a --map value, "HEADER=KEY,HEADER=KEY" (an empty KEY
 * leaves the column out), to m. -1 with err set when an entry is not of
 * that form.
 */
int
colmap_parse(struct colmap *m, const char *spec, char *err, size_t errlen)
{
	char *copy, *entry, *next, *eq, **from, **to;
	int   rv = -1;

	if ((copy = strdup(spec)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (entry = copy; entry != NULL; entry = next) {
		if ((next = strchr(entry, ',')) != NULL)
			*next++ = '\0';
		if (*colmap_trim(entry) == '\0')
			continue;
		if ((eq = strrchr(entry, '=')) == NULL) {
			snprintf(err, errlen, "--map: \"%s\" is not HEADER=KEY",
			    entry);
			goto out;
		}
		*eq++ = '\0';
		colmap_trim(entry);
		colmap_trim(eq);
		if (*entry == '\0' || !colmap_valid_key(eq)) {
			snprintf(err, errlen,
			    "--map: \"%s=%s\": a header, then a key in lower "
			    "case (name, party, email ...)",
			    entry, eq);
			goto out;
		}
		from = reallocarray(m->from, m->n + 1, sizeof *from);
		if (from != NULL)
			m->from = from;
		to = reallocarray(m->to, m->n + 1, sizeof *to);
		if (to != NULL)
			m->to = to;
		if (from == NULL || to == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		m->from[m->n] = strdup(entry);
		m->to[m->n] = strdup(eq);
		if (m->from[m->n] == NULL || m->to[m->n] == NULL) {
			free(m->from[m->n]);
			free(m->to[m->n]);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		m->n++;
	}
	rv = 0;
out:
	free(copy);
	return (rv);
}

/* The key --map gives header ("" to leave it out), or NULL. */
const char *
colmap_lookup(const struct colmap *m, const char *header)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (colmap_same(header, m->from[i]))
			return (m->to[i]);
	return (NULL);
}
