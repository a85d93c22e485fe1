-- The blocks read model's `block_leaders` table was written and never read: a block's leaders
-- by year are read from its stream (BlockService.state, domain.block_state). Dropped; the
-- `leaders_set` events keep them.
DROP TABLE IF EXISTS block_leaders;
