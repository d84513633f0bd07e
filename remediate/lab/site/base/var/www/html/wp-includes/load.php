<?php
/**
 * WordPress-like lab stub for wp-includes/load.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'load.php';

function wp_check_php_mysql_versions( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_fix_server_vars( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_maintenance( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function timer_start( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_debug_mode( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_set_lang_dir( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function require_wp_db( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_start_object_cache( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_not_installed( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_get_mu_plugins( ...$args ) {
	return array();
}

function wp_get_active_and_valid_plugins( ...$args ) {
	return array();
}

function wp_set_internal_encoding( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_magic_quotes( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_get_active_and_valid_themes( ...$args ) {
	return array();
}

function wp_start_scraping_edited_file_errors( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_is_fatal_error_handler_enabled( ...$args ) {
	return false;
}

function wp_register_fatal_error_handler( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function is_multisite( ...$args ) {
	return false;
}

function shutdown_action_hook( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}
