"""Mapping files: which model output goes to which CRM property, and how it is written."""

from crm_sync.mapping.load import MappedProperty, MappingFile, load_mapping_file, parse_mapping

__all__ = ["MappedProperty", "MappingFile", "load_mapping_file", "parse_mapping"]
