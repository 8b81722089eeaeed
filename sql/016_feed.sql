-- 016_feed.sql -- what the daemons' change feed needs (daemon/feed.c).
--
-- Notifications are no longer NOTIFYs but logical decoding messages
-- (roster._notify_send in functions/core.sql), which each rosterd reads
-- from a replication slot of its own through the built-in output plugin
-- pgoutput. pgoutput needs a publication to start; this one publishes no
-- table (rosterd wants the messages only, and a table added to it would
-- only cost the walsenders work). The server needs wal_level = logical,
-- and rosterd's role REPLICATION (rosterd.8, "The database").

CREATE PUBLICATION roster_feed;

-- The numbers of migration 011 are not taken any more: a signature names
-- its transaction instead.
DROP SEQUENCE roster.notify_seq;
