<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-speculation-rules.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-speculation-rules.php';
