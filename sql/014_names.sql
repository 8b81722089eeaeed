-- 014_names.sql -- a participant's name as lists sort it and in Latin
-- letters (PROTOCOL.md section 5): family, the part a list sorts by (NULL:
-- the whole name), and latin, the name in Latin letters (given, or derived
-- by rosterd with ICU from a name in another script).
--
-- The participants of an older database keep both NULL: they sort by
-- their whole name as before, and ICU's transliteration is rosterd's, not
-- the database's, so their latin is derived the next time PARTICIPANT SET
-- gives their name= (or given with latin=).

ALTER TABLE roster.participant
	ADD COLUMN family roster.name_t,
	ADD COLUMN latin roster.name_t;
