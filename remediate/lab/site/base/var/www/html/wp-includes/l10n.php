<?php
/**
 * WordPress-like lab stub for wp-includes/l10n.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'l10n.php';

function load_default_textdomain( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function get_locale( ...$args ) {
	return 'en_US';
}
