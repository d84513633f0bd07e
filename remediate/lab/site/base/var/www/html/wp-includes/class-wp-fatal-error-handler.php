<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-fatal-error-handler.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-fatal-error-handler.php';
