-- 012_privacy.sql -- refs scoped to a party, keyed import refs, and what a
-- PARTICIPANT ERASE of 0.1 left behind (issue 7).
--
-- 1. A ref belongs to its event and its scope (request_ref.party_id): the
--    party a request creates something for, or NULL when there is none
--    (SESSION CREATE). The same ref in two scopes is two requests, so that
--    nothing about another party's refs can be observed. The old primary
--    key (event, ref) held at most one row per ref, so every row keeps its
--    scope.
-- 2. Every event has an import key, 32 random bytes, which `roster import`
--    reads from EVENT SHOW (import_key=, hex) and with which it keys the
--    refs of its rows (HMAC-SHA256), so that a ref cannot be recomputed
--    from the person's data without the key. The refs that the 0.1 CLI
--    made (imp-<32 hex digits of SHA-256 of the row>) become what the new
--    CLI makes of the same row (imp-<32 hex digits of HMAC-SHA256(key,
--    those 16 bytes)>), in request_ref and in the audit: an import run
--    again after the upgrade still adds nothing.
-- 3. Participants erased by 0.1 lose what it kept: the refs of their
--    creation and of their speaking (request_ref rows), the ref and topic
--    in their audit rows, their speakers' topics.

ALTER TABLE roster.request_ref DROP CONSTRAINT request_ref_pkey;
CREATE UNIQUE INDEX request_ref_key ON roster.request_ref
	(event_id, coalesce(party_id, 0), ref);

ALTER TABLE roster.event ADD COLUMN import_key bytea NOT NULL
	DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
	CHECK (octet_length(import_key) = 32);

-- 3: before 2, so that no erased participant's ref is converted.
DO $$
DECLARE
	p record;
	v_target text;
BEGIN
	FOR p IN SELECT x.id, d.event_id, e.code
	    FROM roster.participant x
	    JOIN roster.delegation d ON d.id = x.delegation_id
	    JOIN roster.event e ON e.id = d.event_id
	    WHERE x.erased LOOP
		v_target := p.code || '/participant/' || p.id;
		DELETE FROM roster.request_ref r
		WHERE r.event_id = p.event_id
		    AND ((r.command = 'PARTICIPANT ADD' AND r.reply->>'id' = p.id::text)
		      OR (r.command = 'SPEAKER ADD'
		          AND r.reply->>'participant' = p.id::text));
		UPDATE roster.audit SET detail = (
			SELECT jsonb_object_agg(k, CASE WHEN k IN ('name',
			    'honorific', 'title', 'email', 'reason', 'topic', 'ref')
			    THEN '"erased"'::jsonb ELSE v END)
			FROM jsonb_each(detail) AS x(k, v))
		WHERE target = v_target
		    AND detail ?| ARRAY['name', 'honorific', 'title', 'email',
		        'reason', 'topic', 'ref'];
		UPDATE roster.speaker SET topic = 'erased'
		WHERE participant_id = p.id AND topic IS NOT NULL;
	END LOOP;
END $$;

-- 2: HMAC-SHA256 (RFC 2104) with the core sha256(); the key is shorter
-- than the block, so it is padded with zeros to 64 bytes. The audit's refs
-- of that form are the same refs.
DO $$
DECLARE
	e record;
	v_ipad bytea;
	v_opad bytea;
	i integer;
BEGIN
	FOR e IN SELECT id, import_key FROM roster.event LOOP
		v_ipad := e.import_key || decode(repeat('00', 32), 'hex');
		v_opad := v_ipad;
		FOR i IN 0..63 LOOP
			v_ipad := set_byte(v_ipad, i, get_byte(v_ipad, i) # 54);
			v_opad := set_byte(v_opad, i, get_byte(v_opad, i) # 92);
		END LOOP;
		UPDATE roster.request_ref
		SET ref = 'imp-' || left(encode(sha256(v_opad || sha256(v_ipad
		    || decode(substr(ref, 5), 'hex'))), 'hex'), 32)
		WHERE event_id = e.id AND ref ~ '^imp-[0-9a-f]{32}$';
		UPDATE roster.audit
		SET detail = jsonb_set(detail, '{ref}', to_jsonb('imp-'
		    || left(encode(sha256(v_opad || sha256(v_ipad
		    || decode(substr(detail->>'ref', 5), 'hex'))), 'hex'), 32)))
		WHERE event_id = e.id AND detail->>'ref' ~ '^imp-[0-9a-f]{32}$';
	END LOOP;
END $$;
