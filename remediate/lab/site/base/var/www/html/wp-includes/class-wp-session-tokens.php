<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-session-tokens.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-session-tokens.php';
