<?php
/**
 * WordPress-like lab stub for wp-includes/general-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'general-template.php';
