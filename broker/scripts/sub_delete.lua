-- sub_delete: ARGV s
if not delete_sub(ARGV[1]) then return {'NOT_FOUND'} end
return {'OK'}
