<?php
/**
 * WordPress-like lab stub for wp-includes/default-constants.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'default-constants.php';

function wp_plugin_directory_constants( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_cookie_constants( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_ssl_constants( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_functionality_constants( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_templating_constants( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function wp_initial_constants() {
	foreach ( array(
		'WP_MEMORY_LIMIT'     => '40M',
		'WP_MAX_MEMORY_LIMIT' => '256M',
		'WP_CONTENT_DIR'      => ABSPATH . 'wp-content',
		'WP_DEBUG'            => false,
		'WP_CACHE'            => false,
		'SCRIPT_DEBUG'        => false,
		'SHORTINIT'           => false,
		'WP_LANG_DIR'         => ABSPATH . 'wp-content/languages',
	) as $name => $value ) {
		if ( ! defined( $name ) ) {
			define( $name, $value );
		}
	}
}
