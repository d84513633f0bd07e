<?php
/**
 * WordPress-like lab stub for wp-includes/plugin.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'plugin.php';

function wp_register_plugin_realpath( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}

function add_action( $hook_name, $callback, $priority = 10, $accepted_args = 1 ) {
	$GLOBALS['wp_lab_hooks'][ $hook_name ][] = $callback;
	return true;
}

function do_action( $hook_name, ...$arg ) {
	$GLOBALS['wp_lab_actions'][] = $hook_name;
}

function apply_filters( $hook_name, $value, ...$args ) {
	return $value;
}
