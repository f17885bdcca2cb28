# Key inventory: create keys, list them, describe one.
section "Key inventory"
step key list
