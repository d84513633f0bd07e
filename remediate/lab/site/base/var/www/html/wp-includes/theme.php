<?php
/**
 * WordPress-like lab stub for wp-includes/theme.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'theme.php';

function register_theme_directory( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function get_theme_root( ...$args ) {
	return WP_CONTENT_DIR . '/themes';
}
