#!/usr/bin/env bash
# test-upgrade.sh from the last ABI-4 release (fe46631): the same upgrade
# through the migration step 4 -> 5 alone, whose SYN buckets start empty.
RG_UPGRADE_FROM=fe46631 exec bash "$(dirname "$0")/test-upgrade.sh"
